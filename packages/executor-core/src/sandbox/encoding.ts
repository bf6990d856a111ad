/**
 * UTF-8 and base64: TextEncoder, TextDecoder, atob, btoa, and the byte helpers the other
 * APIs use. Pure: nothing here touches the host.
 */
import { DOMException } from "./dom-exception.ts";
import { StringFromCharCode } from "./intrinsics.ts";
import type { BufferSource, TextDecoderApi, TextDecoderOptions, TextEncoderApi } from "./script-api.ts";

/** Code point at `i` with lone surrogates as U+FFFD, and how many UTF-16 units it used. */
function codePointAt(str: string, i: number): number {
  const c = str.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {
    const d = str.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
  }
  return c >= 0xd800 && c <= 0xdfff ? 0xfffd : c;
}

export function utf8Encode(input: unknown): Uint8Array {
  const str = String(input);
  // Exact size first: a large response must not cost three times its size in the heap.
  let size = 0;
  for (let i = 0; i < str.length; i++) {
    const c = codePointAt(str, i);
    size += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (c >= 0x10000) i++;
  }
  const out = new Uint8Array(size);
  let n = 0;
  for (let i = 0; i < str.length; i++) {
    const c = codePointAt(str, i);
    if (c >= 0x10000) i++;
    if (c < 0x80) out[n++] = c;
    else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
    } else if (c < 0x10000) {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    } else {
      out[n++] = 0xf0 | (c >> 18);
      out[n++] = 0x80 | ((c >> 12) & 63);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    }
  }
  return out;
}

/** UTF-8 decoding exactly as the WHATWG Encoding standard specifies (replacement per maximal subpart). */
export function utf8Decode(bytes: Uint8Array, fatal: boolean): string {
  const units: number[] = [];
  let out = "";
  let needed = 0;
  let seen = 0;
  let cp = 0;
  let lower = 0x80;
  let upper = 0xbf;
  const emit = (c: number): void => {
    if (c >= 0x10000) {
      const x = c - 0x10000;
      units.push(0xd800 + (x >> 10), 0xdc00 + (x & 0x3ff));
    } else units.push(c);
    if (units.length > 8192) {
      out += StringFromCharCode.apply(null, units);
      units.length = 0;
    }
  };
  const error = (): void => {
    if (fatal) throw new TypeError("The encoded data was not valid UTF-8");
    emit(0xfffd);
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (needed === 0) {
      if (b <= 0x7f) emit(b);
      else if (b >= 0xc2 && b <= 0xdf) {
        needed = 1;
        cp = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
        needed = 2;
        cp = b & 0xf;
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
        needed = 3;
        cp = b & 0x7;
      } else error();
      continue;
    }
    if (b < lower || b > upper) {
      needed = seen = cp = 0;
      lower = 0x80;
      upper = 0xbf;
      i--; // the byte starts over as the first of a new sequence
      error();
      continue;
    }
    lower = 0x80;
    upper = 0xbf;
    cp = (cp << 6) | (b & 0x3f);
    if (++seen === needed) {
      emit(cp);
      needed = seen = cp = 0;
    }
  }
  if (needed !== 0) error();
  return out + StringFromCharCode.apply(null, units);
}

/** Any BufferSource as a Uint8Array view (no copy). */
export function toBytes(input: unknown): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new TypeError("Expected an ArrayBuffer or an ArrayBufferView");
}

export class TextEncoder implements TextEncoderApi {
  get encoding(): string {
    return "utf-8";
  }
  encode(input: unknown = ""): Uint8Array {
    return utf8Encode(input);
  }
  encodeInto(input: unknown, dest: Uint8Array): { read: number; written: number } {
    const bytes = utf8Encode(input);
    const n = Math.min(bytes.length, dest.length);
    dest.set(bytes.subarray(0, n));
    return { read: String(input).length, written: n };
  }
}

export class TextDecoder implements TextDecoderApi {
  #fatal: boolean;
  #ignoreBOM: boolean;
  constructor(label: unknown = "utf-8", options: TextDecoderOptions = {}) {
    const l = String(label).trim().toLowerCase();
    if (l !== "utf-8" && l !== "utf8" && l !== "unicode-1-1-utf-8") {
      throw new RangeError(`The "${label}" encoding is not supported (only utf-8)`);
    }
    this.#fatal = Boolean(options.fatal);
    this.#ignoreBOM = Boolean(options.ignoreBOM);
  }
  get encoding(): string {
    return "utf-8";
  }
  get fatal(): boolean {
    return this.#fatal;
  }
  get ignoreBOM(): boolean {
    return this.#ignoreBOM;
  }
  decode(input?: BufferSource): string {
    if (input === undefined) return "";
    let bytes = toBytes(input);
    if (!this.#ignoreBOM && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    return utf8Decode(bytes, this.#fatal);
  }
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function btoa(input: unknown): string {
  const s = String(input);
  let out = "";
  for (let i = 0; i < s.length; i += 3) {
    const a = s.charCodeAt(i);
    const b = s.charCodeAt(i + 1);
    const c = s.charCodeAt(i + 2);
    if (a > 255 || b > 255 || c > 255) throw new DOMException("Invalid character", "InvalidCharacterError");
    const n = (a << 16) | ((b || 0) << 8) | (c || 0);
    out += (B64[n >> 18] as string) + (B64[(n >> 12) & 63] as string);
    out += i + 1 < s.length ? B64[(n >> 6) & 63] : "=";
    out += i + 2 < s.length ? B64[n & 63] : "=";
  }
  return out;
}

export function atob(input: unknown): string {
  let s = String(input).replace(/[\t\n\f\r ]/g, "");
  if (s.length % 4 === 0) s = s.replace(/==?$/, "");
  if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) {
    throw new DOMException("The string to be decoded is not correctly encoded.", "InvalidCharacterError");
  }
  let out = "";
  let buf = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    buf = (buf << 6) | B64.indexOf(s[i] as string);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += StringFromCharCode((buf >> bits) & 255);
    }
  }
  return out;
}
