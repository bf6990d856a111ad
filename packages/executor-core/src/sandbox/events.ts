/**
 * Event, EventTarget, AbortController and AbortSignal: the parts scripts use to cancel a
 * fetch or a wait.
 */
import { reportTimerError } from "./console.ts";
import { DOMException } from "./dom-exception.ts";
import type { AbortControllerApi, AbortSignalApi, EventApi, EventListener, EventTargetApi } from "./script-api.ts";
import { setTimeout } from "./timers.ts";

export class Event implements EventApi {
  #type: string;
  constructor(type: unknown) {
    this.#type = String(type);
  }
  get type(): string {
    return this.#type;
  }
}

interface Listener {
  fn: EventListener;
  once: boolean;
}

const listenerMaps = new WeakMap<EventTarget, Map<string, Listener[]>>();

export class EventTarget implements EventTargetApi {
  constructor() {
    listenerMaps.set(this, new Map());
  }
  addEventListener(type: unknown, fn: EventListener | null, opts?: { once?: boolean }): void {
    if (typeof fn !== "function" && !(fn && typeof fn.handleEvent === "function")) return;
    const map = listenerMaps.get(this) as Map<string, Listener[]>;
    const list = map.get(String(type)) ?? [];
    if (!list.some((l) => l.fn === fn)) list.push({ fn, once: Boolean(opts?.once) });
    map.set(String(type), list);
  }
  removeEventListener(type: unknown, fn: EventListener | null): void {
    const map = listenerMaps.get(this) as Map<string, Listener[]>;
    const list = map.get(String(type));
    if (list)
      map.set(
        String(type),
        list.filter((l) => l.fn !== fn),
      );
  }
  dispatchEvent(event: EventApi): boolean {
    const map = listenerMaps.get(this) as Map<string, Listener[]>;
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

interface SignalState {
  aborted: boolean;
  reason: unknown;
}

const signalState = new WeakMap<AbortSignal, SignalState>();

// Never named inside its own body (see url.ts).
const newSignal = (): AbortSignal => new AbortSignal(signalState);

export class AbortSignal extends EventTarget implements AbortSignalApi {
  declare onabort: ((event: EventApi) => void) | null;
  constructor(key: unknown) {
    if (key !== signalState) throw new TypeError("Illegal constructor");
    super();
    signalState.set(this, { aborted: false, reason: undefined });
    this.onabort = null;
  }
  get aborted(): boolean {
    return (signalState.get(this) as SignalState).aborted;
  }
  get reason(): unknown {
    return (signalState.get(this) as SignalState).reason;
  }
  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }
  static abort(reason?: unknown): AbortSignal {
    const s = newSignal();
    abortSignal(s, reason);
    return s;
  }
  static timeout(ms: number): AbortSignal {
    const s = newSignal();
    setTimeout(() => abortSignal(s, new DOMException("The operation timed out.", "TimeoutError")), ms);
    return s;
  }
  static any(signals: Iterable<AbortSignalApi>): AbortSignal {
    const s = newSignal();
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

function abortSignal(signal: AbortSignal, reason: unknown): void {
  const st = signalState.get(signal) as SignalState;
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

export class AbortController implements AbortControllerApi {
  #signal = newSignal();
  get signal(): AbortSignal {
    return this.#signal;
  }
  abort(reason?: unknown): void {
    abortSignal(this.#signal, reason);
  }
}
