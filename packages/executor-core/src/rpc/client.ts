import type { Duplex } from "node:stream";
import {
  type Executor,
  type ExecutorStats,
  ExecutorStatsSchema,
  type InvocationOutcome,
  type InvocationRequest,
  parseRpcResult,
  type RpcCall,
  type RpcCallMethod,
  type RpcNotice,
  type RpcParams,
  type RpcResult,
  type ScriptVersionRef,
} from "@picloud/shared";
import { faultOutcome } from "../outcome.ts";
import { type RpcMessage, readFrames, type WireError, writeFrame } from "./frames.ts";

export interface RpcClientOptions {
  /** Added to an invocation's wall budget to give its deadline on this side. Default 2000 ms. */
  graceMs?: number;
  /** Called when an invocation's deadline passes unanswered (the peer is stuck). */
  onDeadline?: () => void;
  /** Called once when the stream is lost (closed, ended or failed). */
  onLost?: () => void;
  /** Reason reported for an invocation whose deadline passed (a supervisor that kills the peer says executor_crashed). */
  deadlineReason?: "executor_unavailable" | "executor_crashed";
}

/** How long a peer may take to ready an isolate before `prepare` stops waiting (not a fault). */
const PREPARE_TIMEOUT_MS = 30_000;

/** How a call ended, from this side. */
type CallResult<M extends RpcCallMethod> =
  | { ok: true; value: RpcResult<M> }
  | { ok: false; error: WireError; lost?: boolean; late?: boolean };

type Settle = (r: { ok: true; value: unknown } | { ok: false; error: WireError; lost?: boolean }) => void;

/**
 * An {@link Executor} over a Duplex stream to {@link serveExecutor}. Never rejects an
 * invocation: when the stream closes, every in-flight one resolves as error /
 * executor_crashed; when its deadline (wall budget + grace) passes, as error /
 * executor_unavailable. Every reply is checked against its method's result schema
 * (`executorCalls` in @picloud/shared).
 */
export class RpcExecutorClient implements Executor {
  readonly #stream: Duplex;
  readonly #pending = new Map<number, Settle>();
  readonly #grace: number;
  readonly #onDeadline: (() => void) | undefined;
  readonly #onLost: (() => void) | undefined;
  readonly #deadlineReason: "executor_unavailable" | "executor_crashed";
  #nextId = 1;
  #closed = false;
  #stats: ExecutorStats = { isolatesWarm: 0, isolatesBusy: 0, scriptsLoaded: 0, crashes: 0 };

  constructor(stream: Duplex, opts: RpcClientOptions = {}) {
    this.#stream = stream;
    this.#grace = opts.graceMs ?? 2000;
    this.#onDeadline = opts.onDeadline;
    this.#onLost = opts.onLost;
    this.#deadlineReason = opts.deadlineReason ?? "executor_unavailable";
    readFrames(stream, (msg) => this.#onMessage(msg));
    const lost = (): void => this.#lost("the executor connection closed");
    stream.on("close", lost);
    stream.on("end", lost);
    stream.on("error", (e) => this.#lost(`the executor connection failed: ${e.message}`));
  }

  /** True once the stream is gone; every call then answers at once. */
  get closed(): boolean {
    return this.#closed;
  }

  #onMessage(msg: RpcMessage): void {
    if (msg.t === "notify") {
      if (msg.method === "stats") this.#takeStats(msg.params);
      return;
    }
    if (msg.t !== "reply") return;
    if (msg.stats !== undefined) this.#takeStats(msg.stats);
    const settle = this.#pending.get(msg.id);
    if (!settle) return;
    this.#pending.delete(msg.id);
    settle(msg.ok ? { ok: true, value: msg.value } : { ok: false, error: msg.error });
  }

  #takeStats(raw: unknown): void {
    const parsed = ExecutorStatsSchema.safeParse(raw);
    if (parsed.success) this.#stats = parsed.data;
  }

  #lost(message: string): void {
    const first = !this.#closed;
    this.#closed = true;
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const settle of all)
      settle({ ok: false, error: { name: "ExecutorCrashed", message, stack: null }, lost: true });
    if (first) this.#onLost?.();
  }

  #send(msg: RpcCall | RpcNotice): boolean {
    return writeFrame(this.#stream, msg);
  }

  /**
   * Calls `method` and waits for its reply, at most `timeoutMs`. A missed deadline is the
   * peer's fault (`onDeadline`) unless `quiet`. A reply whose value does not match the
   * method's result schema is an error.
   */
  #call<M extends RpcCallMethod>(
    method: M,
    params: RpcParams<M>,
    timeoutMs: number,
    quiet = false,
  ): Promise<CallResult<M>> {
    if (this.#closed) {
      return Promise.resolve({
        ok: false,
        error: { name: "ExecutorUnavailable", message: "the executor connection is closed", stack: null },
      });
    }
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (!this.#pending.delete(id)) return;
        resolve({
          ok: false,
          late: true,
          error: {
            name: "ExecutorUnavailable",
            message: `the executor did not answer within ${timeoutMs} ms`,
            stack: null,
          },
        });
        if (!quiet) this.#onDeadline?.();
      }, timeoutMs);
      this.#pending.set(id, (r) => {
        clearTimeout(timer);
        if (!r.ok) return resolve(r);
        try {
          resolve({ ok: true, value: parseRpcResult(method, r.value) });
        } catch (e) {
          const message = `the executor answered ${method} with a malformed result: ${e instanceof Error ? e.message : String(e)}`;
          resolve({ ok: false, error: { name: "ProtocolError", message, stack: null } });
        }
      });
      const msg = { t: "call", id, method, params } as RpcCall;
      if (!this.#send(msg) && this.#stream.destroyed) this.#lost("the executor connection is closed");
    });
  }

  async invoke(req: InvocationRequest): Promise<InvocationOutcome> {
    const t0 = performance.now();
    const r = await this.#call("invoke", req, req.budgets.wallTimeMs + this.#grace);
    if (r.ok) return r.value;
    const durationMs = Math.round(performance.now() - t0);
    if (r.lost)
      return faultOutcome(
        "error",
        "executor_crashed",
        `the executor process died during the invocation (${r.error.message})`,
        { durationMs, name: "ExecutorCrashed" },
      );
    if (r.late)
      return faultOutcome("error", this.#deadlineReason, r.error.message, { durationMs, name: "ExecutorUnavailable" });
    if (r.error.name === "ExecutorUnavailable")
      return faultOutcome("error", "executor_unavailable", r.error.message, { durationMs, name: r.error.name });
    return faultOutcome("error", "internal_error", `executor fault: ${r.error.message}`, {
      durationMs,
      name: "InternalError",
    });
  }

  evict(scriptId: string, keepVersion?: number): void {
    this.#send({
      t: "notify",
      method: "evict",
      params: keepVersion === undefined ? { scriptId } : { scriptId, keepVersion },
    });
  }

  /**
   * Asks the peer to ready an isolate for a version before its first invocation; resolves
   * when it answers that it has (or could not), when the connection is lost, or after 30 s.
   */
  async prepare(script: ScriptVersionRef, memoryMb: number): Promise<void> {
    if (this.#closed) return;
    const { id, name, version, code } = script;
    await this.#call("prepare", { script: { id, name, version, code }, memoryMb }, PREPARE_TIMEOUT_MS, true);
  }

  /** True when the peer answers within `timeoutMs` (default 10 s). */
  async ready(timeoutMs = 10_000): Promise<boolean> {
    const r = await this.#call("ready", null, timeoutMs);
    return r.ok && r.value;
  }

  stats(): ExecutorStats {
    return { ...this.#stats };
  }

  async close(): Promise<void> {
    this.#stream.end();
    this.#lost("the executor client was closed");
  }
}
