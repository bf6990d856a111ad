import type { Duplex } from "node:stream";
import type { Executor, ExecutorStats, InvocationRequest, ScriptVersionRef } from "@picloud/shared";
import { type RpcMessage, readFrames, toWireError, writeFrame } from "./frames.ts";

/**
 * Serves an {@link Executor} over any Duplex stream (a child's fd 3 pipe, a unix or TCP
 * socket). Calls: `invoke`, `ready`, `stats`; notifications: `evict`, `prepare`. The current stats
 * travel with invocation replies (and after an evict) so that the client's `stats()`
 * stays synchronous.
 */
const STATS_EVERY_MS = 50;

export function serveExecutor(stream: Duplex, executor: Executor): { close(): void } {
  const send = (msg: RpcMessage): void => {
    writeFrame(stream, msg);
  };
  const pushStats = (): void => {
    lastStats = performance.now();
    if (trailing) clearTimeout(trailing);
    trailing = null;
    send({ t: "notify", method: "stats", params: executor.stats() });
  };
  // Stats ride on invocation replies, at most every STATS_EVERY_MS (they walk the whole
  // pool); a skipped update is sent on its own once that interval has passed.
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
  readFrames(stream, (msg) => {
    if (msg.t === "notify") {
      if (msg.method === "evict") {
        const p = msg.params as { scriptId: string; keepVersion?: number };
        executor.evict(String(p.scriptId), p.keepVersion);
        pushStats();
      } else if (msg.method === "prepare") {
        const p = msg.params as { script: ScriptVersionRef; memoryMb: number };
        const s = p.script;
        const ref = { id: String(s.id), name: String(s.name), version: Number(s.version), code: String(s.code) };
        executor.prepare?.(ref, Number(p.memoryMb));
      }
      return;
    }
    if (msg.t !== "call") return;
    const { id } = msg;
    let work: Promise<unknown>;
    switch (msg.method) {
      case "invoke":
        executor.invoke(msg.params as InvocationRequest).then(
          (value) => send({ t: "reply", id, ok: true, value, stats: statsForReply() }),
          (e: unknown) => send({ t: "reply", id, ok: false, error: toWireError(e), stats: statsForReply() }),
        );
        return;
      case "ready":
        work = executor.ready();
        break;
      case "stats":
        work = Promise.resolve(executor.stats());
        break;
      default:
        work = Promise.reject(new Error(`unknown RPC method ${msg.method}`));
    }
    work.then(
      (value) => send({ t: "reply", id, ok: true, value }),
      (e: unknown) => send({ t: "reply", id, ok: false, error: toWireError(e) }),
    );
  });
  stream.on("error", () => {});
  return {
    close: () => stream.end(),
  };
}
