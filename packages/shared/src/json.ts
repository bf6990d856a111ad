/**
 * `JSON.stringify` that never throws on what scripts can log: a BigInt becomes its decimal
 * string and an object met a second time becomes `"[Circular]"`. Plain values take the fast
 * path untouched. Used for execution logs on the wire (cluster protocol) and on disk (spill).
 */
export function toJsonLenient(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "bigint") return v.toString();
      if (typeof v === "object" && v !== null) {
        if (seen.has(v)) return "[Circular]";
        seen.add(v);
      }
      return v;
    });
  }
}
