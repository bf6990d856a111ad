import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** SHA-256 hex of a secret: what is stored in place of tokens and keys. */
export function sha256(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Constant-time comparison of a presented secret with a stored SHA-256. */
export function matchesHash(presented: string, storedHash: string): boolean {
  const a = Buffer.from(sha256(presented), "hex");
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A random secret with a recognisable prefix (e.g. `pc_admin_…`, `pc_key_…`). */
export function newSecret(prefix: string, bytes = 32): string {
  return `${prefix}${randomBytes(bytes).toString("base64url")}`;
}
