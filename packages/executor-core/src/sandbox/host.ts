/**
 * The host's callbacks, kept in this module's scope (inside the bundle's closure) and never
 * on the global object: script code cannot reach them (docs/executor.md, "Sandbox").
 * `bindHost` sets them once, from `bootstrap`.
 */
import { ReflectApply } from "./intrinsics.ts";
import type { CopyApplyOptions, HostBindings, HostFetchRequest, HostFetchResult, HostReference } from "./protocol.ts";

export let hostLog: HostBindings["log"];
export let hostRandom: HostBindings["random"];
export let hostCrypto: HostBindings["crypto"];
export let hostAbortFetch: HostBindings["abortFetch"];
export let hostFetch: (req: HostFetchRequest) => Promise<HostFetchResult>;
export let hostSleep: (ms: number) => Promise<void>;

let bound = false;

export function bindHost(host: HostBindings): void {
  if (bound) throw new Error("the runtime's host bindings are already set");
  bound = true;
  hostLog = host.log;
  hostRandom = host.random;
  hostCrypto = host.crypto;
  hostAbortFetch = host.abortFetch;
  // Reference.prototype.apply, captured: fetch and sleep are called through it with
  // prototype-less options (see CopyApplyOptions).
  const refApply = host.fetch.apply;
  const callRef = <A, R>(ref: HostReference<A, R>, arg: A): Promise<R> =>
    ReflectApply(refApply, ref, [
      undefined,
      [arg],
      {
        __proto__: null,
        arguments: { __proto__: null, copy: true },
        result: { __proto__: null, promise: true, copy: true },
      } satisfies CopyApplyOptions,
    ]) as Promise<R>;
  const fetchRef = host.fetch;
  const sleepRef = host.sleep;
  hostFetch = (req) => callRef(fetchRef, req);
  hostSleep = (ms) => callRef(sleepRef, ms);
}
