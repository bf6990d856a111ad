import ivm from "isolated-vm";
import { createHostBindings, type HostBindingRefs } from "./host-bindings.ts";
import type { HostFetcher, InvocationState } from "./invocation-state.ts";
import { RUNTIME_FILENAME, runtimeSource } from "./runtime-bundle.ts";
import type { RuntimeEntryPoints } from "./sandbox/protocol.ts";

/** The runtime's entry points as host References, by name. */
export type EntryRefs = { readonly [K in keyof RuntimeEntryPoints]: ivm.Reference<RuntimeEntryPoints[K]> };

const ENTRY_NAMES = {
  begin: true,
  setModule: true,
  invoke: true,
  invokeStart: true,
  takeResult: true,
  startedResult: true,
} as const satisfies Record<keyof RuntimeEntryPoints, true>;

/**
 * An isolate with its context and the runtime loaded but no script: the expensive part of
 * a cold start, made ahead of need by the pool. Its host callbacks act for the invocation
 * {@link activate} names and do nothing otherwise.
 */
export class SandboxShell {
  readonly memoryMb: number;
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  readonly entries: EntryRefs;
  #active: InvocationState | null = null;

  private constructor(memoryMb: number, isolate: ivm.Isolate, context: ivm.Context, entries: EntryRefs) {
    this.memoryMb = memoryMb;
    this.isolate = isolate;
    this.context = context;
    this.entries = entries;
  }

  /** A fresh isolate with its context, the runtime bootstrapped and warmed up. */
  static async create(memoryMb: number, fetcher: HostFetcher): Promise<SandboxShell> {
    const isolate = new ivm.Isolate({
      memoryLimit: Math.max(8, memoryMb),
      // isolated-vm: after this V8 has lost control; the supervisor restarts the process.
      onCatastrophicError: (msg) => {
        process.stderr.write(`[executor] catastrophic isolate error: ${msg}\n`);
        process.abort();
      },
    });
    let shell: SandboxShell | null = null;
    const host = createHostBindings(() => (shell === null ? null : shell.#active), fetcher);
    try {
      const context = await isolate.createContext();
      // The bundle's value is the bootstrap function; it is called once, with the host's
      // callbacks, and nothing of it stays reachable from the global object.
      const bootstrap = (await context.eval(runtimeSource(), {
        filename: RUNTIME_FILENAME,
        reference: true,
        timeout: 5000,
      })) as ivm.Reference<(host: HostBindingRefs) => RuntimeEntryPoints>;
      const api = await bootstrap.apply(undefined, [host], {
        arguments: { copy: true },
        result: { reference: true },
        timeout: 5000,
      });
      bootstrap.release();
      const entries = await entryRefs(api);
      await warmUp(context, entries);
      shell = new SandboxShell(memoryMb, isolate, context, entries);
      return shell;
    } catch (e) {
      if (!isolate.isDisposed) isolate.dispose();
      throw e;
    }
  }

  /** Names the invocation the host callbacks act for (null: none, between invocations). */
  activate(st: InvocationState | null): void {
    this.#active = st;
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

async function entryRefs(api: ivm.Reference<RuntimeEntryPoints>): Promise<EntryRefs> {
  const names = Object.keys(ENTRY_NAMES) as (keyof RuntimeEntryPoints)[];
  const refs = await Promise.all(names.map((k) => api.get(k, { reference: true })));
  api.release();
  return Object.fromEntries(names.map((k, i) => [k, refs[i]])) as EntryRefs;
}

/**
 * Runs one request through the runtime with a trivial handler of our own, before any
 * script is in the isolate: V8 compiles functions on their first call, per isolate, and a
 * script's first request otherwise pays for compiling the runtime's request, headers, body
 * and response paths (~2.5 ms). The script's own setModule/begin replace all of it on its
 * first run. Failures only mean a colder first call.
 */
async function warmUp(context: ivm.Context, entries: EntryRefs): Promise<void> {
  try {
    const ns = (await context.eval(
      `({ default: async (req) => Response.json({ warm: (await req.text()).length, q: new URL(req.url).searchParams.get("q"), t: req.headers.get("content-type") }) })`,
      { reference: true, timeout: 1000 },
    )) as ivm.Reference<unknown>;
    await entries.setModule.apply(undefined, [ns.derefInto()], { timeout: 1000 });
    await entries.begin.apply(undefined, [{ env: {}, maxLogLines: 10, maxLogBytes: 1024 }], {
      arguments: { copy: true },
      timeout: 1000,
    });
    await entries.invoke.apply(
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
