/**
 * crypto: getRandomValues and randomUUID (random bytes from the host), and the slice of
 * crypto.subtle scripts use most: digest, and HMAC for webhook signatures. The hashing runs
 * on the host over copied bytes.
 */
import { DOMException } from "./dom-exception.ts";
import { toBytes } from "./encoding.ts";
import { hostCrypto, hostRandom } from "./host.ts";
import { ObjectDefineProperty, ObjectFreeze } from "./intrinsics.ts";
import type { HostHash } from "./protocol.ts";
import type {
  BufferSource,
  CryptoApi,
  CryptoKeyApi,
  HashAlgorithm,
  HmacAlgorithm,
  SubtleCryptoApi,
} from "./script-api.ts";

const HASH_NAMES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];
const keyBytes = new WeakMap<object, Uint8Array>();

function hashName(alg: unknown): HostHash {
  const name = String(
    typeof alg === "string" ? alg : (alg as { name?: unknown } | null | undefined)?.name,
  ).toUpperCase();
  if (!HASH_NAMES.includes(name)) throw new DOMException(`Unsupported hash ${name}`, "NotSupportedError");
  return name as HostHash;
}

function bufferSource(data: unknown): Uint8Array {
  return toBytes(data).slice();
}

class CryptoKey {
  constructor(key: unknown) {
    if (key !== keyBytes) throw new TypeError("Illegal constructor");
  }
}

function makeHmacKey(bytes: Uint8Array, hash: HostHash, extractable: unknown, usages: Iterable<string>): CryptoKeyApi {
  const k = new CryptoKey(keyBytes);
  keyBytes.set(k, bytes);
  ObjectDefineProperty(k, "type", { value: "secret", enumerable: true });
  ObjectDefineProperty(k, "algorithm", {
    value: ObjectFreeze({ name: "HMAC", hash: ObjectFreeze({ name: hash }), length: bytes.length * 8 }),
    enumerable: true,
  });
  ObjectDefineProperty(k, "extractable", { value: Boolean(extractable), enumerable: true });
  ObjectDefineProperty(k, "usages", { value: ObjectFreeze([...usages]), enumerable: true });
  return ObjectFreeze(k) as CryptoKeyApi;
}

function hmacKey(key: CryptoKeyApi, usage: string): Uint8Array {
  const bytes = keyBytes.get(key);
  if (!bytes || key.algorithm.name !== "HMAC")
    throw new DOMException("Expected an HMAC CryptoKey", "InvalidAccessError");
  if (!key.usages.includes(usage)) throw new DOMException(`Key does not allow ${usage}`, "InvalidAccessError");
  return bytes;
}

function checkHmac(algorithm: unknown): void {
  const name = String(
    typeof algorithm === "string" ? algorithm : (algorithm as { name?: unknown } | null | undefined)?.name,
  ).toUpperCase();
  if (name !== "HMAC") throw new DOMException(`Unsupported algorithm ${name} (only HMAC)`, "NotSupportedError");
}

const subtle: SubtleCryptoApi = {
  async digest(algorithm: HashAlgorithm, data: BufferSource): Promise<ArrayBuffer> {
    return hostCrypto("digest", hashName(algorithm), null, bufferSource(data)).buffer as ArrayBuffer;
  },
  async importKey(format, keyData, algorithm, extractable, usages) {
    if (format !== "raw") throw new DOMException(`Unsupported key format ${format} (only raw)`, "NotSupportedError");
    checkHmac(algorithm);
    return makeHmacKey(bufferSource(keyData), hashName(algorithm.hash), extractable, usages ?? []);
  },
  async exportKey(format, key) {
    if (format !== "raw" || !key.extractable)
      throw new DOMException("Key is not exportable as raw", "InvalidAccessError");
    return (keyBytes.get(key) as Uint8Array).slice().buffer as ArrayBuffer;
  },
  async sign(algorithm: HmacAlgorithm, key, data) {
    checkHmac(algorithm);
    return hostCrypto("hmac", key.algorithm.hash.name as HostHash, hmacKey(key, "sign"), bufferSource(data))
      .buffer as ArrayBuffer;
  },
  async verify(algorithm: HmacAlgorithm, key, signature, data) {
    checkHmac(algorithm);
    const mac = hostCrypto("hmac", key.algorithm.hash.name as HostHash, hmacKey(key, "verify"), bufferSource(data));
    const sig = toBytes(signature);
    let diff = mac.length ^ sig.length;
    for (let i = 0; i < mac.length; i++) diff |= (mac[i] as number) ^ (sig[i] ?? 0);
    return diff === 0;
  },
};

export const crypto: CryptoApi = {
  subtle,
  getRandomValues<T extends ArrayBufferView>(arr: T): T {
    if (
      !ArrayBuffer.isView(arr) ||
      arr instanceof Float32Array ||
      arr instanceof Float64Array ||
      arr instanceof DataView
    ) {
      throw new TypeError("getRandomValues: expected an integer TypedArray");
    }
    if (arr.byteLength > 65536) throw new DOMException("getRandomValues: at most 65536 bytes", "QuotaExceededError");
    new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).set(hostRandom(arr.byteLength));
    return arr;
  },
  randomUUID(): string {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = ((b[6] as number) & 0x0f) | 0x40;
    b[8] = ((b[8] as number) & 0x3f) | 0x80;
    let h = "";
    for (let i = 0; i < 16; i++) h += ((b[i] as number) < 16 ? "0" : "") + (b[i] as number).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  },
};
