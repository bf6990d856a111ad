// biome-ignore-all lint/correctness/noUnusedVariables: bootstrap parts share one closure scope (see bootstrap.ts)
// Sandbox bootstrap, part 3c: the slice of crypto.subtle scripts use most (digest, and
// HMAC for webhook signatures). The hashing runs on the host over copied bytes.

const HASH_NAMES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];
const keyBytes = new WeakMap();

function hashName(alg) {
  const name = String(typeof alg === "string" ? alg : alg?.name).toUpperCase();
  if (!HASH_NAMES.includes(name)) throw new DOMException(`Unsupported hash ${name}`, "NotSupportedError");
  return name;
}

function bufferSource(data) {
  return toBytes(data).slice();
}

class CryptoKey {
  constructor(key) {
    if (key !== keyBytes) throw new TypeError("Illegal constructor");
  }
}

function makeHmacKey(bytes, hash, extractable, usages) {
  const k = new CryptoKey(keyBytes);
  keyBytes.set(k, bytes);
  ObjectDefineProperty(k, "type", { value: "secret", enumerable: true });
  ObjectDefineProperty(k, "algorithm", {
    value: ObjectFreeze({ name: "HMAC", hash: ObjectFreeze({ name: hash }), length: bytes.length * 8 }),
    enumerable: true,
  });
  ObjectDefineProperty(k, "extractable", { value: Boolean(extractable), enumerable: true });
  ObjectDefineProperty(k, "usages", { value: ObjectFreeze([...usages]), enumerable: true });
  return ObjectFreeze(k);
}

function hmacKey(key, usage) {
  const bytes = keyBytes.get(key);
  if (!bytes || key.algorithm.name !== "HMAC")
    throw new DOMException("Expected an HMAC CryptoKey", "InvalidAccessError");
  if (!key.usages.includes(usage)) throw new DOMException(`Key does not allow ${usage}`, "InvalidAccessError");
  return bytes;
}

function checkHmac(algorithm) {
  const name = String(typeof algorithm === "string" ? algorithm : algorithm?.name).toUpperCase();
  if (name !== "HMAC") throw new DOMException(`Unsupported algorithm ${name} (only HMAC)`, "NotSupportedError");
}

const subtle = {
  async digest(algorithm, data) {
    return hostCrypto("digest", hashName(algorithm), null, bufferSource(data)).buffer;
  },
  async importKey(format, keyData, algorithm, extractable, usages) {
    if (format !== "raw") throw new DOMException(`Unsupported key format ${format} (only raw)`, "NotSupportedError");
    checkHmac(algorithm);
    return makeHmacKey(bufferSource(keyData), hashName(algorithm.hash), extractable, usages ?? []);
  },
  async exportKey(format, key) {
    if (format !== "raw" || !key.extractable)
      throw new DOMException("Key is not exportable as raw", "InvalidAccessError");
    return keyBytes.get(key).slice().buffer;
  },
  async sign(algorithm, key, data) {
    checkHmac(algorithm);
    return hostCrypto("hmac", key.algorithm.hash.name, hmacKey(key, "sign"), bufferSource(data)).buffer;
  },
  async verify(algorithm, key, signature, data) {
    checkHmac(algorithm);
    const mac = hostCrypto("hmac", key.algorithm.hash.name, hmacKey(key, "verify"), bufferSource(data));
    const sig = toBytes(signature);
    let diff = mac.length ^ sig.length;
    for (let i = 0; i < mac.length; i++) diff |= mac[i] ^ (sig[i] ?? 0);
    return diff === 0;
  },
};
