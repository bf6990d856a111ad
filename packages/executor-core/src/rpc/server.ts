import type { Duplex } from "node:stream";
import type { Executor, InvocationRequest } from "@picloud/shared";
import { type RpcMessage, readFrames, toWireError, writeFrame } from "./frames.ts";

/**
 * Serves an {@link Executor} over any Duplex stream (a child's fd 3 pipe, a unix or TCP
 * socket). Calls: `invoke`, `ready`, `stats`; notifications: `evict`. The current stats
 * are pushed after every invocation so that the client's `stats()` stays synchronous.
 */
export function serveExecutor(stream: Duplex, executor: Executor): { close(): void } {
  const send = (msg: RpcMessage): void => {
    writeFrame(stream, msg);
  };
  const pushStats = (): void => send({ t: "notify", method: "stats", params: executor.stats() });
  readFrames(stream, (msg) => {
    if (msg.t === "notify") {
      if (msg.method === "evict") {
        const p = msg.params as { scriptId: string; keepVersion?: number };
        executor.evict(String(p.scriptId), p.keepVersion);
        pushStats();
      }
      return;
    }
    if (msg.t !== "call") return;
    const { id } = msg;
    let work: Promise<unknown>;
    switch (msg.method) {
      case "invoke":
        work = executor.invoke(msg.params as InvocationRequest).finally(pushStats);
        break;
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
