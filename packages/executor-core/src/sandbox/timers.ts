/**
 * setTimeout, setInterval, clearTimeout, queueMicrotask. Each pending timer is a host sleep
 * (a host timer and a promise), so they are bounded per invocation; a timer of an earlier
 * invocation never fires into a later one (`resetTimers` starts a new generation).
 */
import { reportTimerError } from "./console.ts";
import { hostSleep } from "./host.ts";
import { NativePromise, ReflectApply } from "./intrinsics.ts";

let generation = 0;
const timers = new Map<number, true>();
let timerSeq = 0;
/** Each pending timer costs the host a timer and a promise: bound them per invocation. */
const MAX_TIMERS = 10000;

function addTimer(id: number): void {
  if (timers.size >= MAX_TIMERS) throw new RangeError(`too many pending timers (at most ${MAX_TIMERS})`);
  timers.set(id, true);
}

/** Drops the timers of earlier invocations. */
export function resetTimers(): void {
  generation++;
  timers.clear();
}

export function setTimeout(fn: unknown, ms: unknown = 0, ...args: unknown[]): number {
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

export function setInterval(fn: unknown, ms: unknown = 0, ...args: unknown[]): number {
  if (typeof fn !== "function") throw new TypeError("setInterval: the callback must be a function");
  const id = ++timerSeq;
  const gen = generation;
  const delay = Math.max(1, Number(ms) || 0);
  addTimer(id);
  const tick = (): void => {
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

export function clearTimeout(id: unknown): void {
  timers.delete(id as number);
}

export const queueMicrotask = (fn: () => void): void => {
  NativePromise.resolve().then(() => fn());
};
