// biome-ignore-all lint/correctness/noUnusedVariables: bootstrap parts share one closure scope (see bootstrap.ts)
// Sandbox bootstrap, part 4: console/log capture, timers, crypto, structuredClone, env,
// the global object, and the entry points the host calls (begin, setModule, invoke).
// Results and errors are turned into plain data here, inside the isolate and under the
// invocation's budgets, so a hostile value can only cost the script its own time.

let handler = null;
let log_ = { lines: 0, bytes: 0, maxLines: 0, maxBytes: 0, truncated: false };
let currentEnv = ObjectFreeze(ObjectCreate(null));
let generation = 0;
const timers = new Map();
let timerSeq = 0;
// Each pending timer costs the host a timer and a promise: bound them per invocation.
const MAX_TIMERS = 10000;
function addTimer(id) {
  if (timers.size >= MAX_TIMERS) throw new RangeError(`too many pending timers (at most ${MAX_TIMERS})`);
  timers.set(id, true);
}

function attempt(fn, fallback) {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
function safeString(v) {
  if (typeof v === "string") return v;
  return attempt(
    () => String(v),
    attempt(() => ObjectProtoToString(v), "[unprintable]"),
  );
}
function safeJSON(v) {
  return attempt(() => JSONStringify(v), undefined);
}
function describe(v) {
  if (typeof v === "string") return v;
  if (v !== null && typeof v === "object") {
    if (attempt(() => v instanceof ErrorCtor, false)) {
      return safeString(
        attempt(() => v.stack, undefined) ??
          `${safeString(attempt(() => v.name, "Error"))}: ${safeString(attempt(() => v.message, ""))}`,
      );
    }
    const j = safeJSON(v);
    return j === undefined ? safeString(v) : j;
  }
  return safeString(v);
}

function emit(level, message, dataJson) {
  const st = log_;
  if (st.truncated) return;
  const msg = message.length > st.maxBytes ? message.slice(0, st.maxBytes) : message;
  const size = msg.length + (dataJson === undefined ? 0 : dataJson.length);
  if (st.lines + 1 > st.maxLines || st.bytes + size > st.maxBytes) {
    st.truncated = true;
    hostLog("warn", "", undefined, true);
    return;
  }
  st.lines++;
  st.bytes += size;
  hostLog(level, msg, dataJson, false);
}

const consoleLevels = { log: "info", info: "info", debug: "debug", trace: "debug", warn: "warn", error: "error" };
const console = {};
for (const name of Object.keys(consoleLevels)) {
  const level = consoleLevels[name];
  console[name] = (...args) => {
    let msg = "";
    for (let i = 0; i < args.length; i++) msg += (i ? " " : "") + describe(args[i]);
    emit(level, msg, undefined);
  };
}
console.assert = (cond, ...args) => {
  if (!cond) console.error("Assertion failed", ...args);
};
console.table = console.log;
console.dir = console.log;

const log = {};
for (const level of ["debug", "info", "warn", "error"]) {
  log[level] = (message, data) => {
    let json;
    if (data !== undefined) {
      json = safeJSON(data);
      if (json === undefined) json = JSONStringify(`[unserialisable ${typeof data}]`);
    }
    emit(level, safeString(message), json);
  };
}
ObjectFreeze(log);

function reportTimerError(e) {
  emit("error", "Uncaught exception in timer: " + describe(e), undefined);
}
function setTimeout(fn, ms = 0, ...args) {
  if (typeof fn !== "function") throw new TypeError("setTimeout: the callback must be a function");
  const id = ++timerSeq;
  const gen = generation;
  addTimer(id);
  hostSleep(Math.max(0, Number(ms) || 0)).then(() => {
    if (!timers.delete(id) || gen !== generation) return;
    try {
      ReflectApply(fn, undefined, args);
    } catch (e) {
      reportTimerError(e);
    }
  });
  return id;
}
function setInterval(fn, ms = 0, ...args) {
  if (typeof fn !== "function") throw new TypeError("setInterval: the callback must be a function");
  const id = ++timerSeq;
  const gen = generation;
  const delay = Math.max(1, Number(ms) || 0);
  addTimer(id);
  const tick = () => {
    if (!timers.has(id) || gen !== generation) return;
    try {
      ReflectApply(fn, undefined, args);
    } catch (e) {
      reportTimerError(e);
    }
    hostSleep(delay).then(tick);
  };
  hostSleep(delay).then(tick);
  return id;
}
function clearTimeout(id) {
  timers.delete(id);
}
const queueMicrotask = (fn) => {
  NativePromise.resolve().then(() => fn());
};

const crypto = {
  subtle,
  getRandomValues(arr) {
    if (
      !ArrayBuffer.isView(arr) ||
      arr instanceof Float32Array ||
      arr instanceof Float64Array ||
      arr instanceof DataView
    ) {
      throw new TypeError("getRandomValues: expected an integer TypedArray");
    }
    if (arr.byteLength > 65536) throw new DOMException("getRandomValues: at most 65536 bytes", "QuotaExceededError");
    new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).set(hostRandom(arr.byteLength));
    return arr;
  },
  randomUUID() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = "";
    for (let i = 0; i < 16; i++) h += (b[i] < 16 ? "0" : "") + b[i].toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  },
};

function structuredClone(value) {
  const seen = new Map();
  const clone = (v) => {
    if (v === null || (typeof v !== "object" && typeof v !== "function")) {
      if (typeof v === "symbol") throw new DOMException("Symbol could not be cloned", "DataCloneError");
      return v;
    }
    if (typeof v === "function") throw new DOMException("function could not be cloned", "DataCloneError");
    if (seen.has(v)) return seen.get(v);
    let out;
    if (Array.isArray(v)) {
      out = [];
      seen.set(v, out);
      for (let i = 0; i < v.length; i++) out[i] = clone(v[i]);
      return out;
    }
    if (v instanceof Date) out = new Date(v.getTime());
    else if (v instanceof RegExp) out = new RegExp(v.source, v.flags);
    else if (v instanceof ArrayBuffer) out = v.slice(0);
    else if (ArrayBuffer.isView(v)) out = new v.constructor(v);
    else if (v instanceof Map) {
      out = new Map();
      seen.set(v, out);
      for (const [k, x] of v) out.set(clone(k), clone(x));
      return out;
    } else if (v instanceof Set) {
      out = new Set();
      seen.set(v, out);
      for (const x of v) out.add(clone(x));
      return out;
    } else if (v instanceof ErrorCtor) {
      out = new ErrorCtor(v.message);
      out.name = v.name;
    } else {
      out = {};
      seen.set(v, out);
      for (const k of Object.keys(v)) out[k] = clone(v[k]);
      return out;
    }
    seen.set(v, out);
    return out;
  };
  return clone(value);
}

// The global object: web APIs in, WebAssembly out (its memory would escape the heap
// limit's accounting and it is a large attack surface we do not need).
const globals = {
  console,
  log,
  setTimeout,
  setInterval,
  clearTimeout,
  clearInterval: clearTimeout,
  queueMicrotask,
  crypto,
  structuredClone,
  TextEncoder,
  TextDecoder,
  atob,
  btoa,
  URL,
  URLSearchParams,
  Headers,
  Request,
  Response,
  fetch,
  DOMException,
  Event,
  EventTarget,
  AbortController,
  AbortSignal,
  performance,
};
for (const name of Object.keys(globals)) {
  ObjectDefineProperty(globalThis, name, {
    value: globals[name],
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
delete globalThis.WebAssembly;
ObjectDefineProperty(globalThis, "env", { get: () => currentEnv, enumerable: false, configurable: false });
ObjectDefineProperty(globalThis, "self", { value: globalThis, writable: true, configurable: true, enumerable: false });

function serializeError(e) {
  try {
    if (e !== null && (typeof e === "object" || typeof e === "function")) {
      const isErr = attempt(() => e instanceof ErrorCtor, false);
      const name = attempt(() => e.name, undefined);
      const message = attempt(() => e.message, undefined);
      const stack = attempt(() => e.stack, undefined);
      if (!isErr && typeof message !== "string")
        return { name: "Error", message: "Uncaught " + describe(e).slice(0, 4096), stack: null };
      return {
        name: typeof name === "string" ? name.slice(0, 200) : "Error",
        message: safeString(message ?? "").slice(0, 4096),
        stack: typeof stack === "string" ? stack.slice(0, 16384) : null,
      };
    }
    return {
      name: "Error",
      message: typeof e === "string" ? e.slice(0, 4096) : "Uncaught " + safeString(e),
      stack: null,
    };
  } catch {
    return { name: "Error", message: "Uncaught exception (could not be described)", stack: null };
  }
}

function invalidReturn(message) {
  return { kind: "invalid", error: { name: "TypeError", message, stack: null } };
}

function toResult(value, maxBytes) {
  let data = responseData(value);
  if (data === null) {
    if (value === undefined) data = { status: 204, headers: [], body: new Uint8Array(0) };
    else if (typeof value === "string") {
      if (value.length > maxBytes) data = { status: 200, headers: [], body: { byteLength: value.length } };
      else data = { status: 200, headers: [["content-type", "text/plain;charset=UTF-8"]], body: utf8Encode(value) };
    } else if (typeof value === "function" || typeof value === "symbol") {
      return invalidReturn(`the handler returned a ${typeof value}, which cannot be sent as a response`);
    } else {
      let text;
      try {
        text = JSONStringify(value);
      } catch (e) {
        return invalidReturn("the handler's return value cannot be serialised as JSON: " + serializeError(e).message);
      }
      if (typeof text !== "string") return invalidReturn("the handler's return value cannot be serialised as JSON");
      if (text.length > maxBytes) data = { status: 200, headers: [], body: { byteLength: text.length } };
      else data = { status: 200, headers: [["content-type", "application/json"]], body: utf8Encode(text) };
    }
  }
  let headerBytes = 0;
  // Index loop: user code may have replaced Array.prototype[Symbol.iterator].
  for (let i = 0; i < data.headers.length; i++)
    headerBytes += data.headers[i][0].length + data.headers[i][1].length + 4;
  if (data.body.byteLength + headerBytes > maxBytes) {
    const message = `response body exceeds the ${maxBytes}-byte budget`;
    return { kind: "limit", reason: "response_too_large", error: { name: "BudgetError", message, stack: null } };
  }
  return { kind: "ok", status: data.status, headers: data.headers, body: data.body };
}

/** Starts an invocation: fresh log counters and env; timers of earlier ones are dropped. */
function begin(inv) {
  generation++;
  timers.clear();
  log_ = { lines: 0, bytes: 0, maxLines: inv.maxLogLines, maxBytes: inv.maxLogBytes, truncated: false };
  const env = ObjectCreate(null);
  for (const k of Object.keys(inv.env)) env[k] = String(inv.env[k]);
  currentEnv = ObjectFreeze(env);
}

/** Takes the module namespace; returns an error message when the default export is unusable. */
function setModule(ns) {
  const d = ns.default;
  if (typeof d === "function" || (d !== null && typeof d === "object" && typeof d.fetch === "function")) {
    handler = d;
    return null;
  }
  return "the default export must be a function or an object with a fetch(req, env, ctx) method";
}

async function invoke(inv) {
  // A warm run starts here (begin's own crossing saved); outside the try: a failure is the
  // runtime's, not the script's.
  if (inv.begin !== null && inv.begin !== undefined) begin(inv.begin);
  let value;
  try {
    const method = String(inv.method).toUpperCase();
    const hasBody = inv.body !== null && method !== "GET" && method !== "HEAD";
    // Headers the runtime cannot represent (e.g. HTTP/2 pseudo-headers) are dropped
    // rather than blamed on the script.
    const headers = new Headers();
    for (let i = 0; i < inv.headers.length; i++)
      attempt(() => headers.append(inv.headers[i][0], inv.headers[i][1]), null);
    const req = new Request(inv.url, { method, headers, body: hasBody ? inv.body : null });
    const ctx = ObjectFreeze({
      executionId: inv.executionId,
      scriptName: inv.scriptName,
      version: inv.version,
      env: currentEnv,
      waitUntil(p) {
        NativePromise.resolve(p).catch(() => {});
      },
    });
    value = typeof handler === "function" ? await handler(req, ctx) : await handler.fetch(req, currentEnv, ctx);
  } catch (e) {
    return { kind: "threw", error: serializeError(e) };
  }
  try {
    return toResult(value, inv.maxResponseBytes);
  } catch (e) {
    return invalidReturn("the handler's return value could not be read: " + serializeError(e).message);
  }
}

// The synchronous entry (see Sandbox.run). invokeStart runs an invocation as far as it goes
// without the host; a handler that needs no host I/O has settled when it returns (isolated-vm
// runs the microtasks before a synchronous call returns), and takeResult hands its result
// over: two synchronous calls instead of an asynchronous task on the isolate's thread. When
// it has not settled, startedResult gives the pending promise to wait for.
const PromiseThen = NativePromise.prototype.then;
let started = null;
let settled = null;
function invokeStart(inv) {
  settled = null;
  const p = invoke(inv);
  started = p;
  ReflectApply(PromiseThen, p, [
    (r) => {
      if (started === p) settled = r;
    },
    () => {},
  ]);
}
function takeResult() {
  const r = settled;
  settled = null;
  if (r !== null) started = null;
  return r;
}
function startedResult() {
  const p = started;
  started = null;
  return p;
}
