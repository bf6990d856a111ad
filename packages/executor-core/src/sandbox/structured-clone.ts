/** structuredClone for the values scripts pass around: plain data, Date, RegExp, bytes, Map, Set, errors. */
import { DOMException } from "./dom-exception.ts";
import { ErrorCtor } from "./intrinsics.ts";

type TypedArrayCtor = new (source: ArrayBufferView) => ArrayBufferView;

export function structuredClone<T>(value: T): T {
  const seen = new Map<unknown, unknown>();
  const clone = (v: unknown): unknown => {
    if (v === null || (typeof v !== "object" && typeof v !== "function")) {
      if (typeof v === "symbol") throw new DOMException("Symbol could not be cloned", "DataCloneError");
      return v;
    }
    if (typeof v === "function") throw new DOMException("function could not be cloned", "DataCloneError");
    if (seen.has(v)) return seen.get(v);
    let out: unknown;
    if (Array.isArray(v)) {
      const arr: unknown[] = [];
      seen.set(v, arr);
      for (let i = 0; i < v.length; i++) arr[i] = clone(v[i]);
      return arr;
    }
    if (v instanceof Date) out = new Date(v.getTime());
    else if (v instanceof RegExp) out = new RegExp(v.source, v.flags);
    else if (v instanceof ArrayBuffer) out = v.slice(0);
    else if (ArrayBuffer.isView(v)) out = new (v.constructor as TypedArrayCtor)(v);
    else if (v instanceof Map) {
      const map = new Map<unknown, unknown>();
      seen.set(v, map);
      for (const [k, x] of v) map.set(clone(k), clone(x));
      return map;
    } else if (v instanceof Set) {
      const set = new Set<unknown>();
      seen.set(v, set);
      for (const x of v) set.add(clone(x));
      return set;
    } else if (v instanceof ErrorCtor) {
      const err = new ErrorCtor(v.message);
      err.name = v.name;
      out = err;
    } else {
      const obj: Record<string, unknown> = {};
      seen.set(v, obj);
      const src = v as Record<string, unknown>;
      for (const k of Object.keys(src)) obj[k] = clone(src[k]);
      return obj;
    }
    seen.set(v, out);
    return out;
  };
  return clone(value) as T;
}
