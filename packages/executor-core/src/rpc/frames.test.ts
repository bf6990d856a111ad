import { Duplex, PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { MAX_FRAME_BYTES, type RpcMessage, readFrames, writeFrame } from "./frames.ts";

describe("RPC frames", () => {
  it("reassembles frames split across chunks and several frames in one chunk", () => {
    const sink = new PassThrough();
    const written: Buffer[] = [];
    sink.on("data", (c: Buffer) => written.push(c));
    const msgs: RpcMessage[] = [
      { t: "call", id: 1, method: "invoke", params: { body: new Uint8Array([0, 1, 255]) } },
      { t: "reply", id: 1, ok: false, error: { name: "E", message: "m", stack: null } },
      { t: "notify", method: "stats", params: { isolatesWarm: 2 } },
    ];
    for (const m of msgs) writeFrame(sink, m);
    const all = Buffer.concat(written);
    const source = new PassThrough();
    const got: RpcMessage[] = [];
    readFrames(source, (m) => got.push(m));
    for (let i = 0; i < all.length; i += 3) source.write(all.subarray(i, i + 3));
    expect(got).toEqual(msgs);
    expect((got[0] as { params: { body: Uint8Array } }).params.body).toBeInstanceOf(Uint8Array);
  });

  it("destroys the stream on an oversized or malformed frame", async () => {
    const big = new PassThrough();
    readFrames(big, () => {});
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MAX_FRAME_BYTES + 1);
    const err = new Promise((r) => big.on("error", r));
    big.write(head);
    expect(String(await err)).toMatch(/exceeds the limit/);

    const bad = new Duplex({
      read() {},
      write(_c, _e, cb) {
        cb();
      },
    });
    readFrames(bad, () => {});
    const err2 = new Promise((r) => bad.on("error", r));
    bad.emit("data", Buffer.from([0, 0, 0, 2, 0xff, 0x00]));
    expect(await err2).toBeInstanceOf(Error);
  });
});
