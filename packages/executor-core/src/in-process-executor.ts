import type { Executor, ExecutorStats, InvocationOutcome, InvocationRequest, ScriptVersionRef } from "@picloud/shared";
import { createHostFetcher, type FetchPolicyOptions } from "./host-fetch.ts";
import { newInvocationState } from "./invocation-state.ts";
import { faultOutcome, toOutcome } from "./outcome.ts";
import { IsolatePool, type PoolOptions } from "./pool.ts";
import { ModuleError } from "./run-result.ts";
import { runtimeSource } from "./runtime-bundle.ts";
import { scriptFilename } from "./sandbox.ts";
import { remapStack } from "./stack-map.ts";

/** Options of an executor that runs isolates (in this process or in its child). */
export interface InProcessExecutorOptions extends PoolOptions, FetchPolicyOptions {}

/**
 * Runs isolates in the current process. For development and inside the supervised
 * executor child: a V8 out-of-memory in an isolate can abort the hosting process, so the
 * platform's default is {@link ProcessExecutor}.
 */
export class InProcessExecutor implements Executor {
  readonly #pool: IsolatePool;
  #closed = false;

  constructor(opts: InProcessExecutorOptions = {}) {
    // The runtime is bundled (or read from its cache) at start-up: a broken one fails here,
    // and the first invocation does not wait for it.
    runtimeSource();
    this.#pool = new IsolatePool(createHostFetcher(opts), opts);
  }

  async invoke(req: InvocationRequest): Promise<InvocationOutcome> {
    const t0 = performance.now();
    const elapsed = (): number => Math.round((performance.now() - t0) * 1000) / 1000;
    if (this.#closed) return faultOutcome("error", "executor_unavailable", "the executor is closed");
    const b = req.budgets;
    const bodyLen = req.request.body?.byteLength ?? 0;
    if (bodyLen > b.maxRequestBytes) {
      return faultOutcome(
        "budget_exceeded",
        "request_too_large",
        `request body of ${bodyLen} bytes exceeds the ${b.maxRequestBytes}-byte budget`,
        { name: "BudgetError" },
      );
    }
    const deadline = Date.now() + b.wallTimeMs;
    try {
      let sb: Awaited<ReturnType<IsolatePool["acquire"]>>;
      try {
        sb = await this.#pool.acquire(req.script, b.memoryMb, deadline);
      } catch (e) {
        if (e instanceof ModuleError) {
          const error = {
            ...e.serialized,
            stack: remapStack(e.serialized.stack, req.script.code, scriptFilename(req.script)),
          };
          return { ...faultOutcome("error", "invalid_module", error.message, { durationMs: elapsed() }), error };
        }
        throw e;
      }
      if (sb === null) {
        return faultOutcome(
          "timeout",
          "wall_time",
          `wall-clock budget of ${b.wallTimeMs} ms exceeded waiting for an isolate`,
          { durationMs: elapsed(), name: "TimeoutError" },
        );
      }
      const st = newInvocationState(b);
      let r: Awaited<ReturnType<typeof sb.run>>;
      try {
        r = await sb.run(req, deadline, st);
      } finally {
        this.#pool.release(sb);
      }
      const filename = scriptFilename(req.script);
      return toOutcome(r, elapsed(), (s) => remapStack(s, req.script.code, filename));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      return faultOutcome("error", "internal_error", `executor fault: ${msg}`, {
        durationMs: elapsed(),
        name: "InternalError",
      });
    }
  }

  evict(scriptId: string, keepVersion?: number): void {
    this.#pool.evict(scriptId, keepVersion);
  }

  async prepare(script: ScriptVersionRef, memoryMb: number): Promise<void> {
    if (!this.#closed) await this.#pool.prepare(script, memoryMb);
  }

  async ready(): Promise<boolean> {
    return !this.#closed;
  }

  stats(): ExecutorStats {
    return { ...this.#pool.stats(), crashes: 0 };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#pool.close();
  }
}
