import { duplexPair } from "node:stream";
import v8 from "node:v8";
import type { Executor, InvocationRequest } from "@picloud/shared";
import { afterAll, describe, expect, it } from "vitest";
import { InProcessExecutor } from "../in-process-executor.ts";
import { request } from "../test-support.ts";
import { RpcExecutorClient } from "./client.ts";
import { type RpcMessage, readFrames, writeFrame } from "./frames.ts";
import { serveExecutor } from "./server.ts";

/** Serves `executor` on one end; returns the raw other end and the frames it received. */
function rawPeer(executor: Executor): { send: (m: RpcMessage) => void; received: RpcMessage[] } {
  const [a, b] = duplexPair();
  serveExecutor(a, executor);
  const received: RpcMessage[] = [];
  readFrames(b, (m) => received.push(m));
  return { send: (m) => writeFrame(b, m), received };
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe("executor RPC: the typed method map is enforced on both ends", () => {
  const inner = new InProcessExecutor();
  afterAll(() => inner.close());

  it("the server answers a call with bad params, or an unknown method, with an error (and serves good ones)", async () => {
    const peer = rawPeer(inner);
    const good = request(`export default () => "ok"`, { id: "rpc-good" });
    peer.send({ t: "call", id: 1, method: "invoke", params: { ...good, budgets: { wallTimeMs: "soon" } } });
    peer.send({ t: "call", id: 2, method: "launch", params: null });
    peer.send({ t: "call", id: 3, method: "ready", params: { extra: true } });
    peer.send({ t: "call", id: 4, method: "invoke", params: good });
    await until(() => peer.received.filter((m) => m.t === "reply").length === 4);
    const replies = new Map(peer.received.flatMap((m) => (m.t === "reply" ? [[m.id, m] as const] : [])));
    expect(replies.get(1)).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/bad params for invoke/) },
    });
    expect(replies.get(2)).toMatchObject({ ok: false, error: { message: "unknown RPC method launch" } });
    expect(replies.get(3)).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/bad params for ready/) },
    });
    expect(replies.get(4)).toMatchObject({ ok: true, value: { status: "success", reason: "ok" } });
  });

  it("the server drops a notice with bad params", async () => {
    const evicted: unknown[] = [];
    const spy: Executor = Object.assign(Object.create(inner) as Executor, {
      evict: (...args: unknown[]) => evicted.push(args),
      stats: () => inner.stats(),
    });
    const peer = rawPeer(spy);
    peer.send({ t: "notify", method: "evict", params: { scriptId: 42 } });
    peer.send({ t: "notify", method: "evict", params: { scriptId: "s", keepVersion: 3 } });
    await until(() => evicted.length > 0);
    await new Promise((r) => setTimeout(r, 20));
    expect(evicted).toEqual([["s", 3]]);
  });

  it("the client turns a reply that breaks its method's result schema into an internal_error outcome", async () => {
    const [a, b] = duplexPair();
    readFrames(b, (m) => {
      if (m.t === "call") writeFrame(b, { t: "reply", id: m.id, ok: true, value: { status: "success" } });
    });
    const client = new RpcExecutorClient(a);
    const o = await client.invoke(request(`export default () => 1`) as InvocationRequest);
    expect(o).toMatchObject({ status: "error", reason: "internal_error" });
    expect(o.error?.message).toMatch(/malformed result/);
    await client.close();
  });

  it("a frame that is not an RPC message ends the connection", async () => {
    const [a, b] = duplexPair();
    const failed = new Promise((r) => a.on("error", r));
    serveExecutor(a, inner);
    const payload = v8.serialize({ t: "bogus", id: 1 });
    const head = Buffer.alloc(4);
    head.writeUInt32BE(payload.byteLength);
    b.write(Buffer.concat([head, payload]));
    expect(String(await failed)).toMatch(/invalid/i);
    expect(a.destroyed).toBe(true);
  });
});
