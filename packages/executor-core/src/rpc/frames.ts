import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import v8 from "node:v8";
import { type RpcEnvelope, RpcEnvelopeSchema, type WireError } from "@picloud/shared";

export type { WireError };

/** Largest frame accepted: bodies are capped far below this, so more means a broken peer. */
export const MAX_FRAME_BYTES = 512 * 1024 * 1024;

/**
 * One frame of the executor RPC (`RpcEnvelope` in @picloud/shared): the envelope is checked
 * here, each method's params and result by the client and the server (`executorCalls`).
 */
export type RpcMessage = RpcEnvelope;

export function toWireError(e: unknown): WireError {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack ?? null };
  return { name: "Error", message: String(e), stack: null };
}

const corked = new WeakSet<Duplex>();

/**
 * Writes one frame: a 4-byte big-endian length, then the v8-serialized message. On a
 * socket, the frames written during one turn of the event loop leave in one `writev` at
 * its end (corked until `setImmediate`): under load many invocations and replies share a
 * system call instead of paying one each.
 */
export function writeFrame(stream: Duplex, msg: RpcMessage): boolean {
  if (stream.destroyed || !stream.writable) return false;
  const payload = v8.serialize(msg);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(payload.byteLength, 0);
  if (!(stream instanceof Socket)) return stream.write(Buffer.concat([head, payload]));
  if (!corked.has(stream)) {
    corked.add(stream);
    stream.cork();
    setImmediate(() => {
      corked.delete(stream);
      stream.uncork();
    });
  }
  stream.write(head);
  return stream.write(payload);
}

/** Reads frames from a stream; a malformed or oversized frame (or one that is not an RPC message) destroys the stream. */
export function readFrames(stream: Duplex, onMessage: (msg: RpcMessage) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  stream.on("data", (chunk: Buffer) => {
    buf = buf.byteLength === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.byteLength >= 4) {
      const len = buf.readUInt32BE(0);
      if (len > MAX_FRAME_BYTES) {
        stream.destroy(new Error(`RPC frame of ${len} bytes exceeds the limit`));
        return;
      }
      if (buf.byteLength < 4 + len) break;
      const payload = buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
      let msg: RpcMessage;
      try {
        msg = RpcEnvelopeSchema.parse(v8.deserialize(payload));
      } catch (e) {
        stream.destroy(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      onMessage(msg);
    }
  });
}
