/** Bodies are bytes (no streams): a request or response body is a Uint8Array or null. */
import { toBytes, utf8Decode, utf8Encode } from "../encoding.ts";
import { JSONParse } from "../intrinsics.ts";
import type { BodyApi } from "../script-api.ts";
import { URLSearchParams } from "../url.ts";

interface BodyState {
  bytes: Uint8Array | null;
  used: boolean;
}

const bodies = new WeakMap<object, BodyState>();

/** Turns a body init into [bytes, default content-type]. */
export function extractBody(body: unknown): [Uint8Array | null, string | null] {
  if (body === undefined || body === null) return [null, null];
  if (typeof body === "string") return [utf8Encode(body), "text/plain;charset=UTF-8"];
  if (body instanceof URLSearchParams)
    return [utf8Encode(body.toString()), "application/x-www-form-urlencoded;charset=UTF-8"];
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return [toBytes(body).slice(), null];
  return [utf8Encode(String(body)), "text/plain;charset=UTF-8"];
}

/** The bytes of a Request or Response of ours (a TypeError for anything else). */
export function bodyBytes(owner: object): Uint8Array | null {
  return (bodies.get(owner) as BodyState).bytes;
}

/** Replaces the body of a Request or Response of ours, unread. */
export function setBody(owner: object, bytes: Uint8Array | null): void {
  bodies.set(owner, { bytes, used: false });
}

export class Body implements BodyApi {
  constructor(bytes: Uint8Array | null) {
    bodies.set(this, { bytes, used: false });
  }
  get bodyUsed(): boolean {
    return (bodies.get(this) as BodyState).used;
  }
  #take(): Uint8Array {
    const b = bodies.get(this) as BodyState;
    if (b.used) throw new TypeError("Body has already been consumed");
    b.used = true;
    return b.bytes ?? new Uint8Array(0);
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.#take();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
  async bytes(): Promise<Uint8Array> {
    return this.#take().slice();
  }
  async text(): Promise<string> {
    return utf8Decode(this.#take(), false);
  }
  async json(): Promise<unknown> {
    return JSONParse(await this.text());
  }
  async formData(): Promise<never> {
    throw new TypeError("formData() is not supported in PiCloud scripts");
  }
}
