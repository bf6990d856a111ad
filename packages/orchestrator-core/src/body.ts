import { PiCloudError } from "@picloud/shared";

/** Reads a request body up to `max` bytes; more is a 413 in the error contract. */
export async function readBodyCapped(
  req: Request,
  max: number,
  declared: string | null = req.headers.get("content-length"),
): Promise<Uint8Array | null> {
  if (declared !== null && Number(declared) > max) throw tooLarge(max);
  if (declared === "0" || req.method === "GET" || req.method === "HEAD") return null;
  if (declared !== null) {
    // The length is declared and within the cap, and the HTTP parser never delivers more
    // than it: read it in one go. On @hono/node-server this reads the socket directly
    // instead of through a web ReadableStream (a large share of a small request's cost).
    const buf = await req.arrayBuffer();
    if (buf.byteLength > max) throw tooLarge(max);
    return buf.byteLength === 0 ? null : new Uint8Array(buf);
  }
  if (!req.body) return null;
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  if (size === 0) return null;
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function tooLarge(max: number): PiCloudError {
  return new PiCloudError("payload_too_large", `request body is larger than this script's limit of ${max} bytes`, {
    details: { maxRequestBytes: max },
  });
}

/** Connection-level headers that a proxy must not forward (RFC 9110 §7.6.1). */
export const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);
