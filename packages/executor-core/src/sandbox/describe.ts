/**
 * Turning any script value into text without letting it take the runtime down: every read
 * of a script value may throw (getters, Proxies), so each one is attempted on its own.
 */
import { ErrorCtor, JSONStringify, ObjectProtoToString } from "./intrinsics.ts";

export function attempt<T, F>(fn: () => T, fallback: F): T | F {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

export function safeString(v: unknown): string {
  if (typeof v === "string") return v;
  return attempt(
    () => String(v),
    attempt(() => ObjectProtoToString(v), "[unprintable]"),
  );
}

export function safeJSON(v: unknown): string | undefined {
  return attempt(() => JSONStringify(v), undefined);
}

/** A console argument or thrown value as text: an error's stack, JSON, or String(). */
export function describe(v: unknown): string {
  if (typeof v === "string") return v;
  if (v !== null && typeof v === "object") {
    if (attempt(() => v instanceof ErrorCtor, false)) {
      const e = v as Error;
      return safeString(
        attempt(() => e.stack, undefined) ??
          `${safeString(attempt(() => e.name, "Error"))}: ${safeString(attempt(() => e.message, ""))}`,
      );
    }
    const j = safeJSON(v);
    return j === undefined ? safeString(v) : j;
  }
  return safeString(v);
}
