// biome-ignore-all lint/correctness/noUnusedVariables: bootstrap parts share one closure scope (see bootstrap.ts)
// Sandbox bootstrap, part 3: Headers, Request, Response and fetch. Bodies are held as
// bytes (no streams): a request or response body is a Uint8Array or null.

const headerLists = new WeakMap();
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function normName(name) {
  const n = String(name);
  if (!TOKEN.test(n)) throw new TypeError(`Invalid header name: ${n.slice(0, 100)}`);
  return n.toLowerCase();
}
function normValue(value) {
  const v = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  if (/[\0\r\n]/.test(v)) throw new TypeError("Invalid header value");
  return v;
}

class Headers {
  #list = [];
  constructor(init) {
    headerLists.set(this, this.#list);
    if (init === undefined || init === null) return;
    if (init instanceof Headers) for (const [k, v] of init.#list) this.#list.push([k, v]);
    else if (typeof init === "object" && typeof init[Symbol.iterator] === "function") {
      for (const pair of init) {
        const p = [...pair];
        if (p.length !== 2) throw new TypeError("Each header pair must be a [name, value] tuple");
        this.append(p[0], p[1]);
      }
    } else if (typeof init === "object") for (const k of Object.keys(init)) this.append(k, init[k]);
    else throw new TypeError("Invalid headers init");
  }
  append(name, value) {
    this.#list.push([normName(name), normValue(value)]);
  }
  delete(name) {
    const n = normName(name);
    for (let i = this.#list.length - 1; i >= 0; i--) if (this.#list[i][0] === n) this.#list.splice(i, 1);
  }
  get(name) {
    const n = normName(name);
    const vals = this.#list.filter(([k]) => k === n).map(([, v]) => v);
    return vals.length === 0 ? null : vals.join(", ");
  }
  getSetCookie() {
    return this.#list.filter(([k]) => k === "set-cookie").map(([, v]) => v);
  }
  has(name) {
    const n = normName(name);
    return this.#list.some(([k]) => k === n);
  }
  set(name, value) {
    const n = normName(name);
    const v = normValue(value);
    const i = this.#list.findIndex(([k]) => k === n);
    if (i < 0) this.#list.push([n, v]);
    else {
      this.#list[i] = [n, v];
      for (let j = this.#list.length - 1; j > i; j--) if (this.#list[j][0] === n) this.#list.splice(j, 1);
    }
  }
  /** Sorted, combined view, as the Fetch standard iterates headers. */
  #sorted() {
    const names = [...new Set(this.#list.map(([k]) => k))].sort();
    const out = [];
    for (const n of names) {
      if (n === "set-cookie") for (const v of this.getSetCookie()) out.push([n, v]);
      else out.push([n, this.get(n)]);
    }
    return out;
  }
  forEach(fn, thisArg) {
    for (const [k, v] of this.#sorted()) fn.call(thisArg, v, k, this);
  }
  *entries() {
    yield* this.#sorted();
  }
  *keys() {
    for (const [k] of this.#sorted()) yield k;
  }
  *values() {
    for (const [, v] of this.#sorted()) yield v;
  }
  [Symbol.iterator]() {
    return this.entries();
  }
}

/** Turns a body init into [bytes, default content-type]. */
function extractBody(body) {
  if (body === undefined || body === null) return [null, null];
  if (typeof body === "string") return [utf8Encode(body), "text/plain;charset=UTF-8"];
  if (body instanceof URLSearchParams)
    return [utf8Encode(body.toString()), "application/x-www-form-urlencoded;charset=UTF-8"];
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return [toBytes(body).slice(), null];
  return [utf8Encode(String(body)), "text/plain;charset=UTF-8"];
}

const bodies = new WeakMap();

class Body {
  constructor(bytes) {
    bodies.set(this, { bytes, used: false });
  }
  get bodyUsed() {
    return bodies.get(this).used;
  }
  #take() {
    const b = bodies.get(this);
    if (b.used) throw new TypeError("Body has already been consumed");
    b.used = true;
    return b.bytes ?? new Uint8Array(0);
  }
  async arrayBuffer() {
    const bytes = this.#take();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }
  async bytes() {
    return this.#take().slice();
  }
  async text() {
    return utf8Decode(this.#take(), false);
  }
  async json() {
    return JSONParse(await this.text());
  }
  async formData() {
    throw new TypeError("formData() is not supported in PiCloud scripts");
  }
}

const METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"];

class Request extends Body {
  #method;
  #url;
  #headers;
  #redirect;
  #signal;
  constructor(input, init = {}) {
    const from = input instanceof Request ? input : null;
    let bytes = null;
    let ctype = null;
    if (init.body !== undefined && init.body !== null) [bytes, ctype] = extractBody(init.body);
    else if (from) bytes = bodies.get(from).bytes;
    super(bytes);
    const m = String(init.method ?? from?.method ?? "GET");
    this.#method = METHODS.includes(m.toUpperCase()) ? m.toUpperCase() : m;
    if ((this.#method === "GET" || this.#method === "HEAD") && bytes !== null) {
      throw new TypeError("Request with GET/HEAD method cannot have body");
    }
    this.#url = from ? from.url : new URL(String(input)).href;
    this.#headers = new Headers(init.headers ?? from?.headers);
    if (ctype && !this.#headers.has("content-type")) this.#headers.set("content-type", ctype);
    this.#redirect = String(init.redirect ?? from?.redirect ?? "follow");
    this.#signal = init.signal ?? from?.signal ?? null;
  }
  get signal() {
    return this.#signal;
  }
  get method() {
    return this.#method;
  }
  get url() {
    return this.#url;
  }
  get headers() {
    return this.#headers;
  }
  get redirect() {
    return this.#redirect;
  }
  clone() {
    if (this.bodyUsed) throw new TypeError("Cannot clone a used body");
    return new Request(this);
  }
}

const responses = new WeakSet();
const STATUS_TEXT = {
  200: "OK",
  201: "Created",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  500: "Internal Server Error",
};

class Response extends Body {
  #status;
  #statusText;
  #headers;
  #url;
  #redirected;
  constructor(body = null, init = {}) {
    const [bytes, ctype] = extractBody(body);
    super(bytes);
    const status = init.status === undefined ? 200 : Number(init.status);
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`Response status must be an integer in 200..599, got ${init.status}`);
    }
    if (bytes !== null && (status === 204 || status === 205 || status === 304)) {
      throw new TypeError(`Response with status ${status} cannot have a body`);
    }
    this.#status = status;
    this.#statusText = init.statusText === undefined ? (STATUS_TEXT[status] ?? "") : String(init.statusText);
    this.#headers = new Headers(init.headers);
    if (ctype && !this.#headers.has("content-type")) this.#headers.set("content-type", ctype);
    this.#url = "";
    this.#redirected = false;
    responses.add(this);
  }
  static json(data, init = {}) {
    const text = JSONStringify(data);
    if (text === undefined) throw new TypeError("Response.json: value is not JSON-serialisable");
    const headers = new Headers(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new Response(text, { ...init, headers });
  }
  static redirect(url, status = 302) {
    if (![301, 302, 303, 307, 308].includes(status)) throw new RangeError(`Invalid redirect status ${status}`);
    return new Response(null, { status, headers: { location: new URL(String(url)).href } });
  }
  static error() {
    throw new TypeError("Response.error() is not supported");
  }
  get status() {
    return this.#status;
  }
  get statusText() {
    return this.#statusText;
  }
  get ok() {
    return this.#status >= 200 && this.#status < 300;
  }
  get headers() {
    return this.#headers;
  }
  get url() {
    return this.#url;
  }
  get redirected() {
    return this.#redirected;
  }
  get type() {
    return "default";
  }
  clone() {
    if (this.bodyUsed) throw new TypeError("Cannot clone a used body");
    const r = new Response(bodies.get(this).bytes, {
      status: this.#status,
      statusText: this.#statusText,
      headers: this.#headers,
    });
    r.#url = this.#url;
    r.#redirected = this.#redirected;
    return r;
  }
  /** Builds the Response a host fetch answered with (status may be 1xx..5xx). */
  static _fromHost(r) {
    const res = new Response(null, { status: 200 });
    bodies.set(res, { bytes: r.body, used: false });
    res.#status = r.status;
    res.#statusText = r.statusText;
    res.#headers = new Headers(r.headers);
    res.#url = r.url;
    res.#redirected = r.redirected;
    return res;
  }
}
const responseFromHost = Response._fromHost;
delete Response._fromHost;

/** Plain data of one of our Responses, for the host; null for anything else. */
function responseData(value) {
  if (typeof value !== "object" || value === null || !WeakSetHas(responses, value)) return null;
  const b = bodies.get(value);
  return {
    status: value.status,
    headers: headerLists.get(value.headers).map(([k, v]) => [k, v]),
    body: b.bytes ?? new Uint8Array(0),
  };
}

let fetchSeq = 0;

async function fetch(input, init = undefined) {
  const req = new Request(input, init ?? {});
  const signal = init?.signal ?? req.signal;
  if (signal?.aborted) throw signal.reason;
  const b = bodies.get(req);
  const id = ++fetchSeq;
  const payload = {
    id,
    method: req.method,
    url: req.url,
    headers: headerLists.get(req.headers).map(([k, v]) => [k, v]),
    body: b.bytes,
    redirect: req.redirect,
  };
  let r;
  if (signal) {
    // An aborted fetch rejects at once and the host's request is cancelled.
    r = await new NativePromise((resolve, reject) => {
      const onAbort = () => {
        hostAbortFetch(id);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      hostFetch(payload).then(
        (v) => {
          signal.removeEventListener("abort", onAbort);
          resolve(v);
        },
        (e) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  } else r = await hostFetch(payload);
  if (r?.ok !== true) {
    throw new TypeError(`fetch failed: ${typeof r?.message === "string" ? r.message : "network error"}`);
  }
  return responseFromHost(r);
}
