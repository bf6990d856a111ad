// biome-ignore-all lint/correctness/noUnusedVariables: bootstrap parts share one closure scope (see bootstrap.ts)
// Sandbox bootstrap, part 3b: Event, EventTarget, AbortController and AbortSignal (the
// parts scripts use to cancel a fetch or a wait).

class Event {
  #type;
  constructor(type) {
    this.#type = String(type);
  }
  get type() {
    return this.#type;
  }
}

const listenerMaps = new WeakMap();

class EventTarget {
  constructor() {
    listenerMaps.set(this, new Map());
  }
  addEventListener(type, fn, opts) {
    if (typeof fn !== "function" && !(fn && typeof fn.handleEvent === "function")) return;
    const map = listenerMaps.get(this);
    const list = map.get(String(type)) ?? [];
    if (!list.some((l) => l.fn === fn)) list.push({ fn, once: Boolean(opts?.once) });
    map.set(String(type), list);
  }
  removeEventListener(type, fn) {
    const map = listenerMaps.get(this);
    const list = map.get(String(type));
    if (list)
      map.set(
        String(type),
        list.filter((l) => l.fn !== fn),
      );
  }
  dispatchEvent(event) {
    const map = listenerMaps.get(this);
    const list = [...(map.get(event.type) ?? [])];
    for (const l of list) {
      if (l.once) this.removeEventListener(event.type, l.fn);
      try {
        if (typeof l.fn === "function") l.fn.call(this, event);
        else l.fn.handleEvent(event);
      } catch (e) {
        reportTimerError(e);
      }
    }
    return true;
  }
}

const signalState = new WeakMap();

class AbortSignal extends EventTarget {
  constructor(key) {
    if (key !== signalState) throw new TypeError("Illegal constructor");
    super();
    signalState.set(this, { aborted: false, reason: undefined });
    this.onabort = null;
  }
  get aborted() {
    return signalState.get(this).aborted;
  }
  get reason() {
    return signalState.get(this).reason;
  }
  throwIfAborted() {
    if (this.aborted) throw this.reason;
  }
  static abort(reason) {
    const s = new AbortSignal(signalState);
    abortSignal(s, reason);
    return s;
  }
  static timeout(ms) {
    const s = new AbortSignal(signalState);
    setTimeout(() => abortSignal(s, new DOMException("The operation timed out.", "TimeoutError")), ms);
    return s;
  }
  static any(signals) {
    const s = new AbortSignal(signalState);
    for (const x of signals) {
      if (x.aborted) {
        abortSignal(s, x.reason);
        break;
      }
      x.addEventListener("abort", () => abortSignal(s, x.reason), { once: true });
    }
    return s;
  }
}

function abortSignal(signal, reason) {
  const st = signalState.get(signal);
  if (st.aborted) return;
  st.aborted = true;
  st.reason = reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
  const ev = new Event("abort");
  if (typeof signal.onabort === "function") {
    try {
      signal.onabort(ev);
    } catch (e) {
      reportTimerError(e);
    }
  }
  signal.dispatchEvent(ev);
}

class AbortController {
  #signal = new AbortSignal(signalState);
  get signal() {
    return this.#signal;
  }
  abort(reason) {
    abortSignal(this.#signal, reason);
  }
}

const performanceOrigin = Date.now();
const performance = { timeOrigin: performanceOrigin, now: () => Date.now() - performanceOrigin };
