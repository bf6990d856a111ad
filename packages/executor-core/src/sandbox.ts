import type { Budgets, InvocationRequest, ScriptVersionRef } from "@picloud/shared";
import type ivm from "isolated-vm";
import { HeapMonitor } from "./heap-monitor.ts";
import { endInvocationState, type HostFetcher, type InvocationState } from "./invocation-state.ts";
import {
  internalError,
  type KillReason,
  killed,
  ModuleError,
  type RunCore,
  type RunResult,
  ScriptThrew,
  toRunResult,
} from "./run-result.ts";
import type { BeginPayload, InvokePayload } from "./sandbox/protocol.ts";
import { SandboxShell } from "./sandbox-shell.ts";
import { Watchdog } from "./watchdog.ts";

/** Isolates whose last run used less CPU than this start their next one synchronously. */
const SYNC_CPU_MS = 2;

/** The filename user code is compiled under: it is what stack frames show. */
export function scriptFilename(script: { name: string; version: number }): string {
  return `script:${script.name}@v${script.version}`;
}

export interface SandboxOptions {
  /** Whether a quick warm isolate may start its next run synchronously (PoolOptions.syncFastPath). */
  syncFastPath?: boolean;
}

/**
 * One isolate holding one script version: a {@link SandboxShell} (context and runtime) and
 * the script's module. Runs one invocation at a time under host-enforced budgets (a
 * {@link Watchdog} for time, a {@link HeapMonitor} for memory); any budget kill disposes the
 * isolate. The pool moves it between idle and busy with {@link reserve} / {@link release}.
 */
export class Sandbox {
  readonly scriptId: string;
  readonly version: number;
  readonly #code: string;
  readonly #memoryMb: number;
  readonly #shell: SandboxShell;
  readonly #module: ivm.Module;
  readonly #heap: HeapMonitor;
  readonly #syncFastPath: boolean;
  #busy = false;
  #dead = false;
  /** Evicted while busy: disposed when its run ends. */
  #retire = false;
  #lastUsed = Date.now();
  #evaluated = false;
  /** The last run settled quickly: the next one may start synchronously (see #runSync). */
  #syncOk = false;
  #killReason: KillReason | null = null;

  private constructor(
    script: ScriptVersionRef,
    memoryMb: number,
    shell: SandboxShell,
    module: ivm.Module,
    opts: SandboxOptions,
  ) {
    this.scriptId = script.id;
    this.version = script.version;
    this.#code = script.code;
    this.#memoryMb = memoryMb;
    this.#shell = shell;
    this.#module = module;
    this.#heap = new HeapMonitor(memoryMb);
    this.#syncFastPath = opts.syncFastPath ?? false;
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
    spare?: SandboxShell,
    opts: SandboxOptions = {},
  ): Promise<Sandbox> {
    const usable = spare && !spare.isolate.isDisposed && spare.memoryMb === memoryMb ? spare : null;
    if (spare && !usable) spare.dispose();
    const shell = usable ?? (await SandboxShell.create(memoryMb, fetcher));
    try {
      let module: ivm.Module;
      try {
        module = await shell.isolate.compileModule(script.code, { filename: scriptFilename(script) });
        await module.instantiate(shell.context, (specifier) => {
          throw new Error(`import of "${specifier}" is not supported: a script is a single module`);
        });
      } catch (e) {
        throw new ModuleError(e);
      }
      return new Sandbox(script, memoryMb, shell, module, opts);
    } catch (e) {
      shell.dispose();
      throw e;
    }
  }

  /** Running an invocation, or reserved for one by the pool. */
  get busy(): boolean {
    return this.#busy;
  }

  /** Disposed (killed, retired or evicted): never runs again. */
  get dead(): boolean {
    return this.#dead;
  }

  /** Free to take an invocation. */
  get idle(): boolean {
    return !this.#busy && !this.#dead;
  }

  /** When it was last released (for idle timeouts and LRU order). */
  get lastUsed(): number {
    return this.#lastUsed;
  }

  /** What the isolate holds in RAM as last measured (sampled after runs, see HeapMonitor). */
  get heapBytes(): number {
    return this.#heap.bytes;
  }

  /** Whether this sandbox runs exactly this code under this heap limit. */
  matches(script: ScriptVersionRef, memoryMb: number): boolean {
    return this.#code === script.code && this.#memoryMb === memoryMb;
  }

  /** Taken by the pool for an invocation. */
  reserve(): void {
    this.#busy = true;
  }

  /** Back to the pool after a run. */
  release(): void {
    this.#busy = false;
    this.#lastUsed = Date.now();
  }

  /** Evicted: disposed now if idle, or as soon as its run ends. */
  retire(): void {
    if (this.#busy) this.#retire = true;
    else this.dispose();
  }

  /** Runs one invocation. Never throws: every fault becomes a RunResult. */
  async run(inv: InvocationRequest, deadline: number, st: InvocationState): Promise<RunResult> {
    const b = inv.budgets;
    this.#killReason = null;
    this.#shell.activate(st);
    const watchdog = new Watchdog(this.#isolate, b.cpuTimeMs, deadline, (reason) => this.kill(reason));
    let core: RunCore;
    try {
      core = await this.#execute(inv, watchdog);
    } catch (e) {
      core = this.#faultResult(e, b);
    } finally {
      watchdog.stop();
      this.#shell.activate(null);
      endInvocationState(st);
    }
    const cpuMs = watchdog.cpuMs();
    // A run that used more CPU than this blocks the executor's thread too long to be
    // started synchronously next time (other invocations wait for it meanwhile).
    this.#syncOk = core.kind !== "killed" && cpuMs < SYNC_CPU_MS;
    if (this.#retire) this.dispose();
    if (!this.#isolate.isDisposed) {
      if (cpuMs > b.cpuTimeMs)
        this.kill("cpu_time"); // overran between two checks
      // Close to its limit: retire it rather than let the next request die of it.
      else if (!this.#heap.afterRun(this.#isolate)) this.dispose();
    }
    if (this.#killReason && core.kind !== "killed") core = killed(this.#killReason, b);
    return { ...core, logs: st.logs, cpuMs, fetchLimit: st.fetchLimit };
  }

  get #isolate(): ivm.Isolate {
    return this.#shell.isolate;
  }

  /** One run: the first evaluates the module; later ones may take the synchronous path. */
  async #execute(inv: InvocationRequest, watchdog: Watchdog): Promise<RunCore> {
    const b = inv.budgets;
    const begin: BeginPayload = { env: inv.env, maxLogLines: b.maxLogLines, maxLogBytes: b.maxLogBytes };
    // A warm isolate starts the invocation inside `invoke` (one crossing instead of two);
    // the first run starts it before the module is evaluated, so that top-level code
    // already logs into this invocation and sees its env.
    const first = !this.#evaluated;
    if (first) await this.#evaluate(begin);
    const body = inv.request.body;
    const payload: InvokePayload = {
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
    const raw: unknown =
      !first && this.#syncFastPath && this.#syncOk
        ? await this.#runSync(payload, watchdog)
        : await this.#shell.entries.invoke.apply(undefined, [payload], {
            arguments: { copy: true },
            result: { copy: true, promise: true },
          });
    return toRunResult(raw);
  }

  /** The first run: begins the invocation, evaluates the module and hands its exports over. */
  async #evaluate(begin: BeginPayload): Promise<void> {
    const { entries } = this.#shell;
    await entries.begin.apply(undefined, [begin], { arguments: { copy: true } });
    this.#evaluated = true;
    try {
      await this.#module.evaluate();
    } catch (e) {
      if (this.#killReason || this.#isolate.isDisposed) throw e;
      this.dispose(); // a module that threw at load stays broken
      throw new ScriptThrew(e);
    }
    const problem = await entries.setModule.apply(undefined, [this.#module.namespace.derefInto()], {
      result: { copy: true },
    });
    if (typeof problem === "string") {
      this.dispose();
      throw new ModuleError(new Error(problem));
    }
  }

  /**
   * The synchronous path (PoolOptions.syncFastPath): this isolate's last run took under
   * SYNC_CPU_MS of CPU, so this one starts on this thread, bounded by what is left of its
   * CPU and wall budgets (the watchdog's timers cannot fire during a synchronous call: the
   * call's timeout stands in). A run still waiting on the host (fetch, timers) is then
   * awaited as on the asynchronous path.
   */
  async #runSync(payload: InvokePayload, watchdog: Watchdog): Promise<unknown> {
    const { entries } = this.#shell;
    const limit = watchdog.syncLimit();
    try {
      entries.invokeStart.applySync(undefined, [payload], { arguments: { copy: true }, timeout: limit.timeoutMs });
    } catch (e) {
      if (!this.#isolate.isDisposed && /timed out/i.test(e instanceof Error ? e.message : String(e)))
        this.kill(limit.reason);
      throw e;
    }
    const raw: unknown = entries.takeResult.applySync(undefined, [], { result: { copy: true } });
    if (raw !== null) return raw;
    return entries.startedResult.apply(undefined, [], { result: { copy: true, promise: true } });
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
    return internalError(`executor fault: ${msg}`);
  }

  /** Stops whatever runs and frees the isolate. */
  kill(reason: KillReason): void {
    if (this.#killReason === null) this.#killReason = reason;
    this.dispose();
  }

  dispose(): void {
    this.#dead = true;
    this.#shell.dispose();
  }
}
