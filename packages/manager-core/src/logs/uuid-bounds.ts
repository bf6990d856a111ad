import { isUuid } from "@picloud/shared";

/** Largest millisecond timestamp a UUIDv7 can hold (48 bits). */
const MAX_MS = 2 ** 48 - 1;

/**
 * The smallest UUID whose UUIDv7 time prefix is `ms`: every UUIDv7 made at or after `ms`
 * compares `>=` to it, every one made before compares `<`. PostgreSQL compares uuids
 * bytewise, so `id >= uuidLowerBound(t)` / `id < uuidLowerBound(t)` are primary-key and
 * `(script_id, id)` index ranges.
 */
export function uuidLowerBound(ms: number): string {
  const t = Math.min(MAX_MS, Math.max(0, Math.floor(ms)));
  const h = t.toString(16).padStart(12, "0");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-0000-0000-000000000000`;
}

/** The opaque cursor for "rows after this id" (keyset): base64url of the id's 16 bytes. */
export function encodeCursor(id: string): string {
  return Buffer.from(id.replace(/-/g, ""), "hex").toString("base64url");
}

/** The id inside a cursor, or null when it is not one of ours. */
export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]{22}$/.test(cursor)) return null;
  const b = Buffer.from(cursor, "base64url");
  if (b.length !== 16) return null;
  const h = b.toString("hex");
  const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  return isUuid(id) ? id : null;
}
