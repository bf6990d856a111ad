// biome-ignore-all lint/correctness/noUnusedVariables: bootstrap parts share one closure scope (see bootstrap.ts)
// Sandbox bootstrap, part 2: URL and URLSearchParams. A compact WHATWG-style parser for
// the cases scripts use (special schemes, relative resolution, dot segments, percent
// encoding). Not implemented: IDNA (non-ASCII hosts are rejected) and IPv4 shorthand
// forms; the host re-parses every fetch URL with Node's own parser before checking it.

const SPECIAL_PORTS = { "http:": "80", "https:": "443", "ws:": "80", "wss:": "443", "ftp:": "21", "file:": "" };
const HEX = "0123456789ABCDEF";

function pctEncode(str, keep) {
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

function invalid(input) {
  return new TypeError(`Invalid URL: ${String(input).slice(0, 200)}`);
}

function normalizePath(segments) {
  const out = [];
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i].toLowerCase();
    const last = i === segments.length - 1;
    if (s === ".." || s === ".%2e" || s === "%2e." || s === "%2e%2e") {
      out.pop();
      if (last) out.push("");
    } else if (s === "." || s === "%2e") {
      if (last) out.push("");
    } else out.push(segments[i]);
  }
  return out;
}

function parseHost(host, input) {
  if (host.startsWith("[")) {
    if (!/^\[[0-9a-fA-F:.]+\]$/.test(host)) throw invalid(input);
    return host.toLowerCase();
  }
  let h;
  try {
    h = decodeURIComponent(host).toLowerCase();
  } catch {
    throw invalid(input);
  }
  if (h === "" || /[\0\t\n\r #/:<>?@[\\\]^|%]/.test(h) || /[^\x21-\x7e]/.test(h)) throw invalid(input);
  return h;
}

/** Parses `input` (against `base`, a parsed record) into a URL record or throws. */
function parseURL(input, base) {
  const raw = String(input)
    .replace(/^[\0- ]+|[\0- ]+$/g, "")
    .replace(/[\t\n\r]/g, "");
  const rec = {
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
    rec.protocol = m[1].toLowerCase() + ":";
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
  let query = null;
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
    const pm = /^(.*?)(?::(\d*))?$/.exec(auth);
    const hostPart = pm[1];
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

class URL {
  #rec;
  #params;
  constructor(url, base) {
    const baseRec = base === undefined ? undefined : parseURL(String(base));
    this.#rec = parseURL(String(url), baseRec);
    this.#params = new URLSearchParams(this.#rec.search);
    urlParamsOwner.set(this.#params, (q) => {
      this.#rec.search = q === "" ? "" : "?" + q;
    });
  }
  static canParse(url, base) {
    try {
      new URL(url, base);
      return true;
    } catch {
      return false;
    }
  }
  static parse(url, base) {
    try {
      return new URL(url, base);
    } catch {
      return null;
    }
  }
  get href() {
    const r = this.#rec;
    if (r.opaque) return r.protocol + r.pathname + r.search + r.hash;
    const cred = r.username || r.password ? r.username + (r.password ? ":" + r.password : "") + "@" : "";
    const auth = r.hostname !== "" || r.protocol in SPECIAL_PORTS ? "//" + cred + this.host : "";
    return r.protocol + auth + r.pathname + r.search + r.hash;
  }
  set href(v) {
    const rec = parseURL(String(v));
    this.#rec = rec;
    this.#params = new URLSearchParams(rec.search);
    urlParamsOwner.set(this.#params, (q) => {
      this.#rec.search = q === "" ? "" : "?" + q;
    });
  }
  get origin() {
    const r = this.#rec;
    return r.protocol in SPECIAL_PORTS && r.protocol !== "file:" ? r.protocol + "//" + this.host : "null";
  }
  get protocol() {
    return this.#rec.protocol;
  }
  get username() {
    return this.#rec.username;
  }
  get password() {
    return this.#rec.password;
  }
  get host() {
    return this.#rec.hostname + (this.#rec.port ? ":" + this.#rec.port : "");
  }
  get hostname() {
    return this.#rec.hostname;
  }
  get port() {
    return this.#rec.port;
  }
  get pathname() {
    return this.#rec.pathname;
  }
  set pathname(v) {
    this.href =
      this.href.slice(0, this.href.length - (this.#rec.pathname + this.#rec.search + this.#rec.hash).length) +
      "/" +
      String(v).replace(/^\//, "") +
      this.#rec.search +
      this.#rec.hash;
  }
  get search() {
    return this.#rec.search === "?" ? "" : this.#rec.search;
  }
  set search(v) {
    const q = String(v).replace(/^\?/, "");
    this.#rec.search = q === "" ? "" : "?" + pctEncode(q, QUERY_KEEP);
    this.#params = new URLSearchParams(this.#rec.search);
    urlParamsOwner.set(this.#params, (nq) => {
      this.#rec.search = nq === "" ? "" : "?" + nq;
    });
  }
  get searchParams() {
    return this.#params;
  }
  get hash() {
    return this.#rec.hash === "#" ? "" : this.#rec.hash;
  }
  set hash(v) {
    const h = String(v).replace(/^#/, "");
    this.#rec.hash = h === "" ? "" : "#" + pctEncode(h, FRAG_KEEP);
  }
  toString() {
    return this.href;
  }
  toJSON() {
    return this.href;
  }
}

const urlParamsOwner = new WeakMap();

function formEncode(s) {
  return pctEncode(String(s), /[A-Za-z0-9*\-._ ]/).replace(/ /g, "+");
}
function formDecode(s) {
  const bytes = [];
  const str = s.replace(/\+/g, " ");
  for (let i = 0; i < str.length; i++) {
    if (str[i] === "%" && /^[0-9a-fA-F]{2}$/.test(str.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(str.slice(i + 1, i + 3), 16));
      i += 2;
    } else
      for (const b of utf8Encode(str[i] === undefined ? "" : str[i] + (isHigh(str, i) ? str[++i] : ""))) bytes.push(b);
  }
  return utf8Decode(new Uint8Array(bytes), false);
}
function isHigh(str, i) {
  const c = str.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < str.length;
}

class URLSearchParams {
  #list = [];
  constructor(init = "") {
    if (init instanceof URLSearchParams) this.#list = init.#list.map(([k, v]) => [k, v]);
    else if (typeof init === "object" && init !== null && typeof init[Symbol.iterator] === "function") {
      for (const pair of init) {
        const p = [...pair];
        if (p.length !== 2) throw new TypeError("Each query pair must be an iterable [name, value] tuple");
        this.#list.push([String(p[0]), String(p[1])]);
      }
    } else if (typeof init === "object" && init !== null) {
      for (const k of Object.keys(init)) this.#list.push([k, String(init[k])]);
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
  #update() {
    const hook = urlParamsOwner.get(this);
    if (hook) hook(this.toString());
  }
  get size() {
    return this.#list.length;
  }
  append(k, v) {
    this.#list.push([String(k), String(v)]);
    this.#update();
  }
  delete(k, v) {
    const name = String(k);
    this.#list = this.#list.filter(([a, b]) => a !== name || (v !== undefined && b !== String(v)));
    this.#update();
  }
  get(k) {
    const e = this.#list.find(([a]) => a === String(k));
    return e ? e[1] : null;
  }
  getAll(k) {
    return this.#list.filter(([a]) => a === String(k)).map(([, b]) => b);
  }
  has(k, v) {
    return this.#list.some(([a, b]) => a === String(k) && (v === undefined || b === String(v)));
  }
  set(k, v) {
    const name = String(k);
    const i = this.#list.findIndex(([a]) => a === name);
    if (i < 0) this.#list.push([name, String(v)]);
    else {
      this.#list[i] = [name, String(v)];
      this.#list = this.#list.filter(([a], j) => a !== name || j <= i);
    }
    this.#update();
  }
  sort() {
    this.#list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.#update();
  }
  forEach(fn, thisArg) {
    for (const [k, v] of this.#list) fn.call(thisArg, v, k, this);
  }
  *entries() {
    for (const [k, v] of this.#list) yield [k, v];
  }
  *keys() {
    for (const [k] of this.#list) yield k;
  }
  *values() {
    for (const [, v] of this.#list) yield v;
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  toString() {
    return this.#list.map(([k, v]) => formEncode(k) + "=" + formEncode(v)).join("&");
  }
}
