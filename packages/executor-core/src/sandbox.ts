import { createHash, createHmac, randomBytes } from "node:crypto";
import type {
  Budgets,
  InvocationHttpResponse,
  InvocationRequest,
  ScriptVersionRef,
  SerializedError,
} from "@picloud/shared";
import ivm from "isolated-vm";
import type { LogCollector } from "./log-collector.ts";
import { RUNTIME_FILENAME, runtimeSource } from "./runtime-bundle.ts";
import type { RuntimeEntryPoints } from "./sandbox/protocol.ts";

/** What the isolate's fetch hands to the host, and what it gets back (plain data both ways). */
export interface SandboxFetchRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array | null;
  redirect: string;
  /** Per-invocation fetch id, so that the script's AbortSignal can cancel the host request. */
  id: number;
}
export type SandboxFetchResult =
  | {
      ok: true;
      status: number;
      statusText: string;
      headers: [string, string][];
      body: Uint8Array;
      url: string;
      redirected: boolean;
    }
  | { ok: false; message: string };

/** Per-invocation state the host callbacks work against. */
export interface InvocationState {
  readonly budgets: Budgets;
  readonly logs: LogCollector;
  readonly timers: Set<NodeJS.Timeout>;
  readonly abort: AbortController;
  /** In-flight fetches by id, for the script's AbortSignal. */
  readonly fetchAborts: Map<number, AbortController>;
  fetchCount: number;
  fetchBytes: number;
  /** Set when a fetch cap was hit: the outcome becomes budget_exceeded / fetch_limit. */
  fetchLimit: string | null;
}

export type HostFetcher = (req: SandboxFetchRequest, st: InvocationState) => Promise<SandboxFetchResult>;

export type KillReason = "wall_time" | "cpu_time" | "heap";

/** How a run ended, before it becomes an InvocationOutcome. */
export type RunCore =
  | { kind: "ok"; response: InvocationHttpResponse }
  | { kind: "threw" | "invalid" | "module" | "internal"; error: SerializedError }
  | { kind: "limit"; reason: string; error: SerializedError }
  | { kind: "killed"; reason: KillReason; error: SerializedError };
export type RunResult = RunCore & { logs: LogCollector; cpuMs: number; fetchLimit: string | null };

type Ref = ivm.Reference<(...args: unknown[]) => unknown>;

/** The runtime's entry points, in the order the sandbox keeps their References. */
const ENTRY_POINTS = [
  "begin",
  "setModule",
  "invoke",
  "invokeStart",
  "takeResult",
  "startedResult",
] as const satisfies readonly (keyof RuntimeEntryPoints)[];

const never = (): Promise<never> => new Promise<never>(() => {});

/** Isolates whose last run used less CPU than this start their next one synchronously. */
const SYNC_CPU_MS = 2;

const HASHES: Record<string, string> = {
  "SHA-1": "sha1",
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
};

/** crypto.subtle's host half: digests and HMAC over copied bytes (sync; cost bounded by the heap limit). */
function hostCrypto(op: unknown, alg: unknown, key: unknown, data: unknown): Uint8Array {
  const hash = HASHES[String(alg)];
  if (!hash || !(data instanceof Uint8Array)) throw new TypeError("unsupported algorithm or data");
  if (op === "digest") return new Uint8Array(createHash(hash).update(data).digest());
  if (op === "hmac" && key instanceof Uint8Array) return new Uint8Array(createHmac(hash, key).update(data).digest());
  throw new TypeError("unsupported operation");
}

/** The filename user code is compiled under: it is what stack frames show. */
export function scriptFilename(script: { name: string; version: number }): string {
  return `script:${script.name}@v${script.version}`;
}

/**
 * One isolate holding one script version: a context with the bootstrap runtime and the
 * script's module. Runs one invocation at a time under host-enforced wall and CPU
 * watchdogs; any budget kill disposes the isolate (the pool then drops it).
 */
export class Sandbox {
  readonly scriptId: string;
  readonly version: number;
  readonly memoryMb: number;
  readonly code: string;
  dead = false;
  busy = false;
  /** Evicted while busy: disposed when its run ends. */
  retire = false;
  lastUsed = Date.now();
  heapBytes = 0;
  readonly #isolate: ivm.Isolate;
  readonly #module: ivm.Module;
  readonly #begin: Ref;
  readonly #setModule: Ref;
  readonly #invoke: Ref;
  readonly #invokeStart: Ref;
  readonly #takeResult: Ref;
  readonly #startedResult: Ref;
  /** The last run settled quickly: the next one may start synchronously (see run). */
  #syncOk = false;
  /** Whether the synchronous fast path may be used at all (PoolOptions.syncFastPath). */
  syncFastPath = false;
  #evaluated = false;
  #runs = 0;
  #heapCheckedAt = 0;
  #heapHigh = false;
  #active: InvocationState | null = null;
  #killReason: KillReason | null = null;

  private constructor(
    script: ScriptVersionRef,
    memoryMb: number,
    isolate: ivm.Isolate,
    module: ivm.Module,
    fns: Ref[],
  ) {
    this.scriptId = script.id;
    this.version = script.version;
    this.code = script.code;
    this.memoryMb = memoryMb;
    this.#isolate = isolate;
    this.#module = module;
    [this.#begin, this.#setModule, this.#invoke, this.#invokeStart, this.#takeResult, this.#startedResult] = fns as [
      Ref,
      Ref,
      Ref,
      Ref,
      Ref,
      Ref,
    ];
  }

  /**
   * Builds the isolate for a script version; a script that does not compile or link rejects
   * with a ModuleError. With a `shell` (an unused isolate with the runtime already loaded,
   * same heap limit) only the script's module is compiled: most of a cold start is the shell.
   */
  static async create(
    script: ScriptVersionRef,
    memoryMb: number,
    fetcher: HostFetcher,
    shell?: SandboxShell,
  ): Promise<Sandbox> {
    const sh = shell && !shell.isolate.isDisposed && shell.memoryMb === memoryMb ? shell : null;
    if (shell && !sh) shell.dispose();
    const { isolate, context, fns, bind } = sh ?? (await Sandbox.shell(memoryMb, fetcher));
    try {
      let module: ivm.Module;
      try {
        module = await isolate.compileModule(script.code, { filename: scriptFilename(script) });
        await module.instantiate(context, (specifier) => {
          throw new Error(`import of "${specifier}" is not supported: a script is a single module`);
        });
      } catch (e) {
        throw new ModuleError(e);
      }
      const sb = new Sandbox(script, memoryMb, isolate, module, fns);
      bind(sb);
      return sb;
    } catch (e) {
      if (!isolate.isDisposed) isolate.dispose();
      throw e;
    }
  }

  /** A fresh isolate with its context and the runtime loaded, holding no script yet. */
  static async shell(memoryMb: number, fetcher: HostFetcher): Promise<SandboxShell> {
    const isolate = new ivm.Isolate({
      memoryLimit: Math.max(8, memoryMb),
      // isolated-vm: after this V8 has lost control; the supervisor restarts the process.
      onCatastrophicError: (msg) => {
        process.stderr.write(`[executor] catastrophic isolate error: ${msg}\n`);
        process.abort();
      },
    });
    let self: Sandbox | null = null;
    const st = (): InvocationState | null => (self === null ? null : self.#active);
    const logCb = new ivm.Callback((level: unknown, msg: unknown, data: unknown, trunc: unknown) => {
      st()?.logs.add(level, msg, data, trunc);
    });
    const sleepRef = new ivm.Reference((ms: unknown) => {
      const s = st();
      // The isolate bounds its timers; this is the host's own backstop.
      if (!s || s.timers.size >= 20_000) return never();
      return new Promise<void>((resolve) => {
        const t = setTimeout(
          () => {
            s.timers.delete(t);
            resolve();
          },
          Math.min(Math.max(0, Number(ms) || 0), 2 ** 31 - 1),
        );
        s.timers.add(t);
      });
    });
    const fetchRef = new ivm.Reference(async (req: SandboxFetchRequest) => {
      const s = st();
      if (!s) return never();
      const r = await fetcher(req, s);
      return st() === s ? r : never(); // answers after the invocation ended are dropped
    });
    const randomCb = new ivm.Callback((n: unknown) => new Uint8Array(randomBytes(Math.min(65536, Number(n) || 0))));
    const cryptoCb = new ivm.Callback(hostCrypto);
    const abortFetchCb = new ivm.Callback((id: unknown) => {
      st()?.fetchAborts.get(Number(id))?.abort();
    });
    try {
      const context = await isolate.createContext();
      // The bundle's value is the runtime's bootstrap function (see runtime-bundle.ts): it
      // takes the host callbacks by name and hands back its entry points by name.
      const bootstrap = (await context.eval(runtimeSource(), {
        filename: RUNTIME_FILENAME,
        reference: true,
        timeout: 5000,
      })) as ivm.Reference<(host: Record<string, ivm.Callback | ivm.Reference>) => RuntimeEntryPoints>;
      const host = {
        log: logCb,
        fetch: fetchRef,
        sleep: sleepRef,
        random: randomCb,
        crypto: cryptoCb,
        abortFetch: abortFetchCb,
      };
      const api = await bootstrap.apply(undefined, [host], {
        arguments: { copy: true },
        result: { reference: true },
        timeout: 5000,
      });
      bootstrap.release();
      const fns = await Promise.all(ENTRY_POINTS.map((name) => api.get(name, { reference: true }) as Promise<Ref>));
      api.release();
      await warmUp(context, fns.slice(0, 3) as [Ref, Ref, Ref]);
      return new SandboxShell(memoryMb, isolate, context, fns, (sb) => {
        self = sb;
      });
    } catch (e) {
      if (!isolate.isDisposed) isolate.dispose();
      throw e;
    }
  }

  /** Runs one invocation. Never throws: every fault becomes a RunResult. */
  async run(inv: InvocationRequest, deadline: number, st: InvocationState): Promise<RunResult> {
    const iso = this.#isolate;
    const b = inv.budgets;
    this.#active = st;
    this.#killReason = null;
    let cpuLast = 0n;
    const cpu0 = iso.cpuTime;
    const readCpu = (): number => {
      if (!iso.isDisposed) cpuLast = iso.cpuTime - cpu0;
      return Number(cpuLast) / 1e6;
    };
    const wallTimer = setTimeout(() => this.kill("wall_time"), Math.max(0, deadline - Date.now()));
    let cpuTimer: NodeJS.Timeout | undefined;
    const cpuCheck = (): void => {
      const used = readCpu();
      if (used >= b.cpuTimeMs) this.kill("cpu_time");
      else cpuTimer = setTimeout(cpuCheck, Math.max(2, Math.min(50, b.cpuTimeMs - used)));
    };
    cpuTimer = setTimeout(cpuCheck, Math.max(2, Math.min(50, b.cpuTimeMs)));
    const extra = { logs: st.logs, fetchLimit: null as string | null, cpuMs: 0 };
    let result: RunResult;
    try {
      const body = inv.request.body;
      const begin = { env: inv.env, maxLogLines: b.maxLogLines, maxLogBytes: b.maxLogBytes };
      // A warm isolate starts the invocation inside `invoke` (one crossing instead of two);
      // the first run starts it before the module is evaluated, so that top-level code
      // already logs into this invocation and sees its env.
      const first = !this.#evaluated;
      if (first) await this.#begin.apply(undefined, [begin], { arguments: { copy: true } });
      if (!this.#evaluated) {
        this.#evaluated = true;
        try {
          await this.#module.evaluate();
        } catch (e) {
          if (this.#killReason || iso.isDisposed) throw e;
          this.dispose(); // a module that threw at load stays broken
          throw new ScriptThrew(e);
        }
        const problem = await this.#setModule.apply(undefined, [this.#module.namespace.derefInto()], {
          result: { copy: true },
        });
        if (typeof problem === "string") {
          this.dispose();
          throw new ModuleError(new Error(problem));
        }
      }
      const payload = {
        executionId: inv.executionId,
        scriptName: inv.script.name,
        version: inv.script.version,
        method: inv.request.method,
        url: inv.request.url,
        headers: inv.request.headers,
        // An exact copy: a pooled Buffer's backing store may hold other requests' bytes.
        body: body ? new Uint8Array(body) : null,
        maxResponseBytes: b.maxResponseBytes,
        begin: first ? null : begin,
      };
      let raw: unknown;
      if (!first && this.syncFastPath && this.#syncOk) {
        // Fast path: this isolate's last run took under SYNC_CPU_MS of CPU, so start this one
        // synchronously on this thread, bounded by what is left of its CPU and wall budgets
        // (the host timers cannot fire during a synchronous call: the timeout stands in).
        const wallLeft = deadline - Date.now();
        const cpuLeft = b.cpuTimeMs - readCpu();
        try {
          this.#invokeStart.applySync(undefined, [payload], {
            arguments: { copy: true },
            timeout: Math.max(1, Math.ceil(Math.min(wallLeft, cpuLeft))),
          });
        } catch (e) {
          if (!iso.isDisposed && /timed out/i.test(e instanceof Error ? e.message : String(e)))
            this.kill(cpuLeft <= wallLeft ? "cpu_time" : "wall_time");
          throw e;
        }
        raw = this.#takeResult.applySync(undefined, [], { result: { copy: true } });
        // Still waiting on the host (fetch, timers): wait as the slow path does.
        if (raw === null)
          raw = await this.#startedResult.apply(undefined, [], { result: { copy: true, promise: true } });
      } else {
        raw = await this.#invoke.apply(undefined, [payload], {
          arguments: { copy: true },
          result: { copy: true, promise: true },
        });
      }
      result = { ...toRunResult(raw), ...extra };
    } catch (e) {
      result = { ...this.#faultResult(e, b), ...extra };
    } finally {
      clearTimeout(wallTimer);
      clearTimeout(cpuTimer);
      this.#active = null;
      // Only a host fetch listens to the signal (and aborting builds a DOMException).
      if (st.fetchCount > 0) st.abort.abort();
      for (const t of st.timers) clearTimeout(t);
      st.timers.clear();
    }
    result.cpuMs = readCpu();
    // A run that used more CPU than this blocks the executor's thread too long to be
    // started synchronously next time (other invocations wait for it meanwhile).
    this.#syncOk = result.kind !== "killed" && result.cpuMs < SYNC_CPU_MS;
    if (this.retire) this.dispose();
    result.fetchLimit = st.fetchLimit;
    if (!iso.isDisposed) {
      if (result.cpuMs > b.cpuTimeMs) this.kill("cpu_time"); // overran between two checks
      if (this.#heapCheckDue()) {
        try {
          const h = iso.getHeapStatisticsSync();
          // What the isolate holds in RAM: committed pages, not the reserved heap (an idle
          // hello-world isolate has ~1.6 MB physical of ~3 MB total heap size).
          this.heapBytes = h.total_physical_size + h.externally_allocated_size;
          const used = h.used_heap_size + h.externally_allocated_size;
          const limit = this.memoryMb * 1024 * 1024;
          this.#heapHigh = used > limit * 0.5;
          // Close to its limit: retire it rather than let the next request die of it.
          if (used > limit * 0.9) this.dispose();
        } catch {
          this.dispose();
        }
      }
    }
    if (this.#killReason && result.kind !== "killed")
      result = { ...killed(this.#killReason, b), ...extra, cpuMs: result.cpuMs, fetchLimit: st.fetchLimit };
    return result;
  }

  /**
   * Whether to read the heap statistics after this run: a synchronous call that waits for
   * the isolate's lock, ~12 µs, so not after every run of a hot isolate. Always after its
   * first run, after every run once it uses over half its limit, and otherwise every 8th
   * run or 250 ms (a heap never jumps past its limit unseen: that is the memoryLimit kill).
   */
  #heapCheckDue(): boolean {
    this.#runs++;
    const now = performance.now();
    if (this.#runs === 1 || this.#heapHigh || this.#runs % 8 === 0 || now - this.#heapCheckedAt >= 250) {
      this.#heapCheckedAt = now;
      return true;
    }
    return false;
  }

  #faultResult(e: unknown, b: Budgets): RunCore {
    if (e instanceof ModuleError) return { kind: "module", error: e.serialized };
    if (e instanceof ScriptThrew) return { kind: "threw", error: e.serialized };
    const msg = e instanceof Error ? e.message : String(e);
    // Disposed without us killing it: isolated-vm's memory limit did.
    const heap = this.#killReason === null && (this.#isolate.isDisposed || /memory limit/i.test(msg));
    this.dispose(); // whatever failed may have left the isolate corrupt
    if (this.#killReason) return killed(this.#killReason, b);
    if (heap) {
      this.#killReason = "heap";
      return killed("heap", b);
    }
    return { kind: "internal", error: { name: "InternalError", message: `executor fault: ${msg}`, stack: null } };
  }

  /** Stops whatever runs and frees the isolate. */
  kill(reason: KillReason): void {
    if (this.#killReason === null) this.#killReason = reason;
    this.dispose();
  }

  dispose(): void {
    this.dead = true;
    if (!this.#isolate.isDisposed) {
      try {
        this.#isolate.dispose();
      } catch {
        // already going away
      }
    }
  }
}

/**
 * Runs one request through the runtime with a trivial handler of our own, before any
 * script is in the isolate: V8 compiles functions on their first call, per isolate, and a
 * script's first request otherwise pays for compiling the runtime's request, headers, body
 * and response paths (~2.5 ms). The script's own setModule/begin replace all of it on its
 * first run. Failures only mean a colder first call.
 */
async function warmUp(context: ivm.Context, [begin, setModule, invoke]: [Ref, Ref, Ref]): Promise<void> {
  try {
    const ns = (await context.eval(
      `({ default: async (req) => Response.json({ warm: (await req.text()).length, q: new URL(req.url).searchParams.get("q"), t: req.headers.get("content-type") }) })`,
      { reference: true, timeout: 1000 },
    )) as ivm.Reference<unknown>;
    await setModule.apply(undefined, [ns.derefInto()], { timeout: 1000 });
    await begin.apply(undefined, [{ env: {}, maxLogLines: 10, maxLogBytes: 1024 }], {
      arguments: { copy: true },
      timeout: 1000,
    });
    await invoke.apply(
      undefined,
      [
        {
          executionId: "warm-up",
          scriptName: "warm-up",
          version: 0,
          method: "POST",
          url: "https://warm.up/path?q=1",
          headers: [["content-type", "application/json"]],
          body: new Uint8Array([123, 125]),
          maxResponseBytes: 65536,
          begin: null,
        },
      ],
      { arguments: { copy: true }, result: { copy: true, promise: true }, timeout: 1000 },
    );
    ns.release();
  } catch {
    // a colder first call, nothing worse
  }
}

/**
 * An isolate with its context and the runtime loaded but no script: the expensive part of
 * a cold start, made ahead of need by the pool. Its host callbacks serve whichever Sandbox
 * it is bound to; until then they do nothing.
 */
export class SandboxShell {
  readonly memoryMb: number;
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  readonly fns: Ref[];
  readonly bind: (sb: Sandbox) => void;

  constructor(memoryMb: number, isolate: ivm.Isolate, context: ivm.Context, fns: Ref[], bind: (sb: Sandbox) => void) {
    this.memoryMb = memoryMb;
    this.isolate = isolate;
    this.context = context;
    this.fns = fns;
    this.bind = bind;
  }

  dispose(): void {
    if (!this.isolate.isDisposed) {
      try {
        this.isolate.dispose();
      } catch {
        // already going away
      }
    }
  }
}

function killed(reason: KillReason, b: Budgets): { kind: "killed"; reason: KillReason; error: SerializedError } {
  const message =
    reason === "wall_time"
      ? `wall-clock budget of ${b.wallTimeMs} ms exceeded`
      : reason === "cpu_time"
        ? `CPU budget of ${b.cpuTimeMs} ms exceeded`
        : `heap limit of ${b.memoryMb} MB exceeded`;
  return {
    kind: "killed",
    reason,
    error: { name: reason === "heap" ? "BudgetError" : "TimeoutError", message, stack: null },
  };
}

/** Validates what the isolate's invoke returned: it was copied out, but its shape is untrusted. */
function toRunResult(raw: unknown): RunCore {
  const r = (raw ?? {}) as Record<string, unknown>;
  const error = asError(r["error"]);
  switch (r["kind"]) {
    case "ok": {
      const status = Number(r["status"]);
      const headers = Array.isArray(r["headers"])
        ? (r["headers"] as unknown[][])
            .filter((h) => Array.isArray(h))
            .map((h) => [String(h[0]), String(h[1])] as [string, string])
        : [];
      const body = r["body"] instanceof Uint8Array ? r["body"] : new Uint8Array(0);
      if (!Number.isInteger(status) || status < 200 || status > 599) break;
      return { kind: "ok", response: { status, headers, body } };
    }
    case "threw":
    case "invalid":
      return { kind: r["kind"], error };
    case "limit":
      return { kind: "limit", reason: String(r["reason"]), error };
  }
  return {
    kind: "internal",
    error: { name: "InternalError", message: "the sandbox returned a malformed result", stack: null },
  };
}

function asError(v: unknown): SerializedError {
  const o = (v ?? {}) as Record<string, unknown>;
  return {
    name: typeof o["name"] === "string" ? o["name"] : "Error",
    message: typeof o["message"] === "string" ? o["message"] : "",
    stack: typeof o["stack"] === "string" ? o["stack"] : null,
  };
}

function hostSideError(e: unknown): SerializedError {
  // isolated-vm copies an isolate's error into a host Error: only strings are read from it.
  if (e instanceof Error)
    return { name: String(e.name), message: String(e.message), stack: typeof e.stack === "string" ? e.stack : null };
  return { name: "Error", message: String(e), stack: null };
}

/** The script's module failed to compile, link or expose a usable default export. */
export class ModuleError extends Error {
  readonly serialized: SerializedError;
  constructor(e: unknown) {
    const s = hostSideError(e);
    super(s.message);
    this.serialized = s;
  }
}

/** The module threw while it was being evaluated. */
class ScriptThrew extends Error {
  readonly serialized: SerializedError;
  constructor(e: unknown) {
    const s = hostSideError(e);
    super(s.message);
    this.serialized = s;
  }
}
