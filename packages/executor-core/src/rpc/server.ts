import type { Duplex } from "node:stream";
import {
  type Executor,
  type ExecutorStats,
  executorCalls,
  executorNotices,
  isRpcCallMethod,
  type RpcCallMethod,
  type RpcNotice,
  type RpcParams,
  type RpcReply,
  type RpcResult,
} from "@picloud/shared";
import { type RpcMessage, readFrames, toWireError, writeFrame } from "./frames.ts";

/** Stats ride on replies at most this often (they walk the whole pool). */
const STATS_EVERY_MS = 50;

/** What each call does on the served executor. */
type Handlers = { [M in RpcCallMethod]: (params: RpcParams<M>) => Promise<RpcResult<M>> };

/**
 * Serves an {@link Executor} over any Duplex stream (a child's fd 3 pipe, a unix or TCP
 * socket), with the methods of `executorCalls` and `executorNotices` (@picloud/shared):
 * calls `invoke`, `prepare`, `ready`, `stats`; notice `evict`. Params are validated against
 * their schema (a call with bad params is answered with an error, a bad notice is dropped).
 * The current stats travel with replies (and after an evict) so that the client's
 * `stats()` stays synchronous.
 */
export function serveExecutor(stream: Duplex, executor: Executor): { close(): void } {
  const send = (msg: RpcReply | RpcNotice): void => {
    writeFrame(stream, msg);
  };
  const pushStats = (): void => {
    lastStats = performance.now();
    if (trailing) clearTimeout(trailing);
    trailing = null;
    send({ t: "notify", method: "stats", params: executor.stats() });
  };
  // Stats ride on replies, at most every STATS_EVERY_MS (they walk the whole pool); a
  // skipped update is sent on its own once that interval has passed.
  let lastStats = Number.NEGATIVE_INFINITY;
  let trailing: NodeJS.Timeout | null = null;
  const statsForReply = (): ExecutorStats | undefined => {
    const now = performance.now();
    if (now - lastStats >= STATS_EVERY_MS) {
      lastStats = now;
      if (trailing) clearTimeout(trailing);
      trailing = null;
      return executor.stats();
    }
    trailing ??= setTimeout(pushStats, STATS_EVERY_MS - (now - lastStats));
    trailing.unref?.();
    return undefined;
  };
  const handlers: Handlers = {
    invoke: (req) => executor.invoke(req),
    // The reply carries the stats that now count the readied isolate.
    prepare: async ({ script, memoryMb }) => {
      await executor.prepare(script, memoryMb);
      return null;
    },
    ready: () => executor.ready(),
    stats: async () => executor.stats(),
  };
  const onCall = (id: number, method: string, raw: unknown): void => {
    let work: Promise<unknown>;
    if (!isRpcCallMethod(method)) work = Promise.reject(new Error(`unknown RPC method ${method}`));
    else {
      const parsed = executorCalls[method].params.safeParse(raw);
      if (!parsed.success) work = Promise.reject(new Error(`bad params for ${method}: ${parsed.error.message}`));
      else work = (handlers[method] as (p: unknown) => Promise<unknown>)(parsed.data);
    }
    work.then(
      (value) => send({ t: "reply", id, ok: true, value, stats: statsForReply() }),
      (e: unknown) => send({ t: "reply", id, ok: false, error: toWireError(e), stats: statsForReply() }),
    );
  };
  readFrames(stream, (msg: RpcMessage) => {
    if (msg.t === "call") onCall(msg.id, msg.method, msg.params);
    else if (msg.t === "notify" && msg.method === "evict") {
      const parsed = executorNotices.evict.safeParse(msg.params);
      if (!parsed.success) return;
      executor.evict(parsed.data.scriptId, parsed.data.keepVersion);
      pushStats();
    }
  });
  stream.on("error", () => {});
  return {
    close: () => stream.end(),
  };
}
