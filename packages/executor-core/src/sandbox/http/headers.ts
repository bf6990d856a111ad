/** Headers: a list of lowercased names and values, iterated sorted and combined as Fetch specifies. */
import type { HeadersApi, HeadersInit } from "../script-api.ts";

const headerLists = new WeakMap<Headers, [string, string][]>();
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function normName(name: unknown): string {
  const n = String(name);
  if (!TOKEN.test(n)) throw new TypeError(`Invalid header name: ${n.slice(0, 100)}`);
  return n.toLowerCase();
}
function normValue(value: unknown): string {
  const v = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  if (/[\0\r\n]/.test(v)) throw new TypeError("Invalid header value");
  return v;
}

/**
 * The header list of one of our Headers, copied as plain pairs (for the host). Anything
 * else (a script may shadow a `headers` getter) throws a TypeError, as reading a missing list does.
 */
export function headerPairs(headers: unknown): [string, string][] {
  return (headerLists.get(headers as Headers) as [string, string][]).map(([k, v]) => [k, v]);
}

// Never named inside its own body (see url.ts).
const isHeaders = (v: unknown): v is Headers => v instanceof Headers;

export class Headers implements HeadersApi {
  #list: [string, string][] = [];
  constructor(init?: HeadersInit | null) {
    headerLists.set(this, this.#list);
    if (init === undefined || init === null) return;
    if (isHeaders(init)) for (const [k, v] of init.#list) this.#list.push([k, v]);
    else if (typeof init === "object" && typeof (init as Iterable<unknown>)[Symbol.iterator] === "function") {
      for (const pair of init as Iterable<Iterable<unknown>>) {
        const p = [...pair];
        if (p.length !== 2) throw new TypeError("Each header pair must be a [name, value] tuple");
        this.append(p[0], p[1]);
      }
    } else if (typeof init === "object") {
      const rec = init as Record<string, unknown>;
      for (const k of Object.keys(rec)) this.append(k, rec[k]);
    } else throw new TypeError("Invalid headers init");
  }
  append(name: unknown, value: unknown): void {
    this.#list.push([normName(name), normValue(value)]);
  }
  delete(name: unknown): void {
    const n = normName(name);
    for (let i = this.#list.length - 1; i >= 0; i--) if (this.#list[i]?.[0] === n) this.#list.splice(i, 1);
  }
  get(name: unknown): string | null {
    const n = normName(name);
    const vals = this.#list.filter(([k]) => k === n).map(([, v]) => v);
    return vals.length === 0 ? null : vals.join(", ");
  }
  getSetCookie(): string[] {
    return this.#list.filter(([k]) => k === "set-cookie").map(([, v]) => v);
  }
  has(name: unknown): boolean {
    const n = normName(name);
    return this.#list.some(([k]) => k === n);
  }
  set(name: unknown, value: unknown): void {
    const n = normName(name);
    const v = normValue(value);
    const i = this.#list.findIndex(([k]) => k === n);
    if (i < 0) this.#list.push([n, v]);
    else {
      this.#list[i] = [n, v];
      for (let j = this.#list.length - 1; j > i; j--) if (this.#list[j]?.[0] === n) this.#list.splice(j, 1);
    }
  }
  /** Sorted, combined view, as the Fetch standard iterates headers. */
  #sorted(): [string, string][] {
    const names = [...new Set(this.#list.map(([k]) => k))].sort();
    const out: [string, string][] = [];
    for (const n of names) {
      if (n === "set-cookie") for (const v of this.getSetCookie()) out.push([n, v]);
      else out.push([n, this.get(n) as string]);
    }
    return out;
  }
  forEach(fn: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    for (const [k, v] of this.#sorted()) fn.call(thisArg, v, k, this);
  }
  *entries(): IterableIterator<[string, string]> {
    yield* this.#sorted();
  }
  *keys(): IterableIterator<string> {
    for (const [k] of this.#sorted()) yield k;
  }
  *values(): IterableIterator<string> {
    for (const [, v] of this.#sorted()) yield v;
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}
