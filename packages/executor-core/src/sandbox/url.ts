/**
 * URL and URLSearchParams: a compact WHATWG-style parser for the cases scripts use (special
 * schemes, relative resolution, dot segments, percent encoding). Not implemented: IDNA
 * (non-ASCII hosts are rejected) and IPv4 shorthand forms; the host re-parses every fetch
 * URL with Node's own parser before checking it.
 */
import { utf8Decode, utf8Encode } from "./encoding.ts";
import type { URLApi, URLSearchParamsApi, URLSearchParamsInit } from "./script-api.ts";

const SPECIAL_PORTS: Record<string, string> = {
  "http:": "80",
  "https:": "443",
  "ws:": "80",
  "wss:": "443",
  "ftp:": "21",
  "file:": "",
};
const HEX = "0123456789ABCDEF";

function pctEncode(str: string, keep: RegExp): string {
  let out = "";
  for (const ch of str) {
    if (keep.test(ch)) out += ch;
    else for (const b of utf8Encode(ch)) out += "%" + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}
const PATH_KEEP = /[A-Za-z0-9\-._~!$&'()*+,;=:@%/[\]|^]/;
const QUERY_KEEP = /[A-Za-z0-9\-._~!$&'()*+,;=:@%/?[\]|^`{}\\]/;
const SPECIAL_QUERY_KEEP = /[A-Za-z0-9\-._~!$&()*+,;=:@%/?[\]|^`{}\\]/;
const FRAG_KEEP = /[A-Za-z0-9\-._~!$&'()*+,;=:@%/?[\]|^{}\\#]/;
const USER_KEEP = /[A-Za-z0-9\-._~!$&'()*+,%]/;

/** A parsed URL. */
interface UrlRecord {
  protocol: string;
  username: string;
  password: string;
  hostname: string;
  port: string;
  pathname: string;
  search: string;
  hash: string;
  /** A URL with an opaque path (`mailto:x`, `data:...`): no hierarchy, no dot segments. */
  opaque: boolean;
}

function invalid(input: unknown): TypeError {
  return new TypeError(`Invalid URL: ${String(input).slice(0, 200)}`);
}

function normalizePath(segments: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    const s = seg.toLowerCase();
    const last = i === segments.length - 1;
    if (s === ".." || s === ".%2e" || s === "%2e." || s === "%2e%2e") {
      out.pop();
      if (last) out.push("");
    } else if (s === "." || s === "%2e") {
      if (last) out.push("");
    } else out.push(seg);
  }
  return out;
}

function parseHost(host: string, input: unknown): string {
  if (host.startsWith("[")) {
    if (!/^\[[0-9a-fA-F:.]+\]$/.test(host)) throw invalid(input);
    return host.toLowerCase();
  }
  let h: string;
  try {
    h = decodeURIComponent(host).toLowerCase();
  } catch {
    throw invalid(input);
  }
  if (h === "" || /[\0\t\n\r #/:<>?@[\\\]^|%]/.test(h) || /[^\x21-\x7e]/.test(h)) throw invalid(input);
  return h;
}

/** Parses `input` (against `base`, a parsed record) into a URL record or throws. */
function parseURL(input: string, base?: UrlRecord): UrlRecord {
  const raw = String(input)
    .replace(/^[\0- ]+|[\0- ]+$/g, "")
    .replace(/[\t\n\r]/g, "");
  const rec: UrlRecord = {
    protocol: "",
    username: "",
    password: "",
    hostname: "",
    port: "",
    pathname: "",
    search: "",
    hash: "",
    opaque: false,
  };
  let rest = raw;
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(rest);
  if (m) {
    rec.protocol = (m[1] as string).toLowerCase() + ":";
    rest = rest.slice(m[0].length);
  } else if (base) rec.protocol = base.protocol;
  else throw invalid(input);
  const special = rec.protocol in SPECIAL_PORTS;
  if (special) rest = rest.replace(/\\/g, "/");
  const hashAt = rest.indexOf("#");
  if (hashAt >= 0) {
    rec.hash = rest.slice(hashAt + 1);
    rest = rest.slice(0, hashAt);
  }
  const qAt = rest.indexOf("?");
  let query: string | null = null;
  if (qAt >= 0) {
    query = rest.slice(qAt + 1);
    rest = rest.slice(0, qAt);
  }
  const sameSchemeRelative = m && base && special && base.protocol === rec.protocol && !rest.startsWith("/");
  if (rest.startsWith("//") || (special && m && !sameSchemeRelative)) {
    rest = rec.protocol === "file:" ? rest.replace(/^\/\//, "") : rest.replace(/^\/*/, "");
    const slash = rest.indexOf("/");
    let auth = slash >= 0 ? rest.slice(0, slash) : rest;
    rest = slash >= 0 ? rest.slice(slash) : "";
    const at = auth.lastIndexOf("@");
    if (at >= 0) {
      const cred = auth.slice(0, at);
      auth = auth.slice(at + 1);
      const colon = cred.indexOf(":");
      rec.username = pctEncode(colon >= 0 ? cred.slice(0, colon) : cred, USER_KEEP);
      rec.password = colon >= 0 ? pctEncode(cred.slice(colon + 1), USER_KEEP) : "";
    }
    // Always matches: group 1 is the host, group 2 the port when there is one.
    const pm = /^(.*?)(?::(\d*))?$/.exec(auth) as RegExpExecArray;
    const hostPart = pm[1] as string;
    if (hostPart === "" && special && rec.protocol !== "file:") throw invalid(input);
    rec.hostname = hostPart === "" ? "" : parseHost(hostPart, input);
    if (pm[2]) {
      const port = Number(pm[2]);
      if (port > 65535) throw invalid(input);
      rec.port = String(port) === SPECIAL_PORTS[rec.protocol] ? "" : String(port);
    }
    rec.pathname = rest;
  } else if (!m || sameSchemeRelative) {
    if (!base) throw invalid(input);
    rec.username = base.username;
    rec.password = base.password;
    rec.hostname = base.hostname;
    rec.port = base.port;
    if (base.opaque) {
      if (rest !== "" || query !== null) throw invalid(input);
      rec.opaque = true;
      rec.pathname = base.pathname;
    } else if (rest === "") {
      rec.pathname = base.pathname;
      if (query === null) query = base.search ? base.search.slice(1) : null;
    } else if (rest.startsWith("/")) rec.pathname = rest;
    else rec.pathname = base.pathname.slice(0, base.pathname.lastIndexOf("/") + 1) + rest;
  } else {
    rec.opaque = !rest.startsWith("/");
    rec.pathname = rest;
  }
  if (!rec.opaque) {
    if (special || rec.pathname !== "") {
      const segs = normalizePath(rec.pathname.split("/").slice(1));
      rec.pathname = "/" + segs.map((s) => pctEncode(s, PATH_KEEP)).join("/");
    }
  } else rec.pathname = pctEncode(rec.pathname, /[\x20-\x7e]/);
  // An empty "?" or "#" is kept in href (as WHATWG does) but reads as "" from search/hash.
  rec.search = query === null ? "" : "?" + pctEncode(query, special ? SPECIAL_QUERY_KEEP : QUERY_KEEP);
  rec.hash = hashAt < 0 ? "" : "#" + pctEncode(rec.hash, FRAG_KEEP);
  return rec;
}

/** A URL's searchParams tell their URL about every change (the query is kept in one place). */
const urlParamsOwner = new WeakMap<URLSearchParams, (query: string) => void>();

// The classes below never name themselves inside their bodies: a bundled class that does is
// emitted as \`var URL = class _URL\`, and scripts would see "_URL" in V8's messages (see
// runtime-bundle.ts). Helpers outside the class body stand in.
const newURL = (url: unknown, base?: unknown): URL => new URL(url, base);
const isSearchParams = (v: unknown): v is URLSearchParams => v instanceof URLSearchParams;

export class URL implements URLApi {
  #rec: UrlRecord;
  #params: URLSearchParams;
  constructor(url: unknown, base?: unknown) {
    const baseRec = base === undefined ? undefined : parseURL(String(base));
    this.#rec = parseURL(String(url), baseRec);
    this.#params = new URLSearchParams(this.#rec.search);
    urlParamsOwner.set(this.#params, (q) => {
      this.#rec.search = q === "" ? "" : "?" + q;
    });
  }
  static canParse(url: unknown, base?: unknown): boolean {
    try {
      newURL(url, base);
      return true;
    } catch {
      return false;
    }
  }
  static parse(url: unknown, base?: unknown): URL | null {
    try {
      return newURL(url, base);
    } catch {
      return null;
    }
  }
  get href(): string {
    const r = this.#rec;
    if (r.opaque) return r.protocol + r.pathname + r.search + r.hash;
    const cred = r.username || r.password ? r.username + (r.password ? ":" + r.password : "") + "@" : "";
    const auth = r.hostname !== "" || r.protocol in SPECIAL_PORTS ? "//" + cred + this.host : "";
    return r.protocol + auth + r.pathname + r.search + r.hash;
  }
  set href(v: string) {
    const rec = parseURL(String(v));
    this.#rec = rec;
    this.#params = new URLSearchParams(rec.search);
    urlParamsOwner.set(this.#params, (q) => {
      this.#rec.search = q === "" ? "" : "?" + q;
    });
  }
  get origin(): string {
    const r = this.#rec;
    return r.protocol in SPECIAL_PORTS && r.protocol !== "file:" ? r.protocol + "//" + this.host : "null";
  }
  get protocol(): string {
    return this.#rec.protocol;
  }
  get username(): string {
    return this.#rec.username;
  }
  get password(): string {
    return this.#rec.password;
  }
  get host(): string {
    return this.#rec.hostname + (this.#rec.port ? ":" + this.#rec.port : "");
  }
  get hostname(): string {
    return this.#rec.hostname;
  }
  get port(): string {
    return this.#rec.port;
  }
  get pathname(): string {
    return this.#rec.pathname;
  }
  set pathname(v: string) {
    this.href =
      this.href.slice(0, this.href.length - (this.#rec.pathname + this.#rec.search + this.#rec.hash).length) +
      "/" +
      String(v).replace(/^\//, "") +
      this.#rec.search +
      this.#rec.hash;
  }
  get search(): string {
    return this.#rec.search === "?" ? "" : this.#rec.search;
  }
  set search(v: string) {
    const q = String(v).replace(/^\?/, "");
    this.#rec.search = q === "" ? "" : "?" + pctEncode(q, QUERY_KEEP);
    this.#params = new URLSearchParams(this.#rec.search);
    urlParamsOwner.set(this.#params, (nq) => {
      this.#rec.search = nq === "" ? "" : "?" + nq;
    });
  }
  get searchParams(): URLSearchParams {
    return this.#params;
  }
  get hash(): string {
    return this.#rec.hash === "#" ? "" : this.#rec.hash;
  }
  set hash(v: string) {
    const h = String(v).replace(/^#/, "");
    this.#rec.hash = h === "" ? "" : "#" + pctEncode(h, FRAG_KEEP);
  }
  toString(): string {
    return this.href;
  }
  toJSON(): string {
    return this.href;
  }
}

function formEncode(s: unknown): string {
  return pctEncode(String(s), /[A-Za-z0-9*\-._ ]/).replace(/ /g, "+");
}
function formDecode(s: string): string {
  const bytes: number[] = [];
  const str = s.replace(/\+/g, " ");
  for (let i = 0; i < str.length; i++) {
    if (str[i] === "%" && /^[0-9a-fA-F]{2}$/.test(str.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(str.slice(i + 1, i + 3), 16));
      i += 2;
    } else
      for (const b of utf8Encode(str[i] === undefined ? "" : (str[i] as string) + (isHigh(str, i) ? str[++i] : "")))
        bytes.push(b);
  }
  return utf8Decode(new Uint8Array(bytes), false);
}
function isHigh(str: string, i: number): boolean {
  const c = str.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < str.length;
}

export class URLSearchParams implements URLSearchParamsApi {
  #list: [string, string][] = [];
  constructor(init: URLSearchParamsInit = "") {
    if (isSearchParams(init)) this.#list = init.#list.map(([k, v]) => [k, v]);
    else if (
      typeof init === "object" &&
      init !== null &&
      typeof (init as Iterable<unknown>)[Symbol.iterator] === "function"
    ) {
      for (const pair of init as Iterable<Iterable<unknown>>) {
        const p = [...pair];
        if (p.length !== 2) throw new TypeError("Each query pair must be an iterable [name, value] tuple");
        this.#list.push([String(p[0]), String(p[1])]);
      }
    } else if (typeof init === "object" && init !== null) {
      const rec = init as Record<string, unknown>;
      for (const k of Object.keys(rec)) this.#list.push([k, String(rec[k])]);
    } else {
      const s = String(init).replace(/^\?/, "");
      for (const part of s.split("&")) {
        if (part === "") continue;
        const eq = part.indexOf("=");
        this.#list.push(
          eq >= 0 ? [formDecode(part.slice(0, eq)), formDecode(part.slice(eq + 1))] : [formDecode(part), ""],
        );
      }
    }
  }
  #update(): void {
    const hook = urlParamsOwner.get(this);
    if (hook) hook(this.toString());
  }
  get size(): number {
    return this.#list.length;
  }
  append(k: unknown, v: unknown): void {
    this.#list.push([String(k), String(v)]);
    this.#update();
  }
  delete(k: unknown, v?: unknown): void {
    const name = String(k);
    this.#list = this.#list.filter(([a, b]) => a !== name || (v !== undefined && b !== String(v)));
    this.#update();
  }
  get(k: unknown): string | null {
    const e = this.#list.find(([a]) => a === String(k));
    return e ? e[1] : null;
  }
  getAll(k: unknown): string[] {
    return this.#list.filter(([a]) => a === String(k)).map(([, b]) => b);
  }
  has(k: unknown, v?: unknown): boolean {
    return this.#list.some(([a, b]) => a === String(k) && (v === undefined || b === String(v)));
  }
  set(k: unknown, v: unknown): void {
    const name = String(k);
    const i = this.#list.findIndex(([a]) => a === name);
    if (i < 0) this.#list.push([name, String(v)]);
    else {
      this.#list[i] = [name, String(v)];
      this.#list = this.#list.filter(([a], j) => a !== name || j <= i);
    }
    this.#update();
  }
  sort(): void {
    this.#list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.#update();
  }
  forEach(fn: (value: string, key: string, parent: URLSearchParams) => void, thisArg?: unknown): void {
    for (const [k, v] of this.#list) fn.call(thisArg, v, k, this);
  }
  *entries(): IterableIterator<[string, string]> {
    for (const [k, v] of this.#list) yield [k, v];
  }
  *keys(): IterableIterator<string> {
    for (const [k] of this.#list) yield k;
  }
  *values(): IterableIterator<string> {
    for (const [, v] of this.#list) yield v;
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
  toString(): string {
    return this.#list.map(([k, v]) => formEncode(k) + "=" + formEncode(v)).join("&");
  }
}
