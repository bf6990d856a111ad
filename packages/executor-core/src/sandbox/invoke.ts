/**
 * The entry points the host calls: begin, setModule, invoke, and the synchronous path's
 * invokeStart / takeResult / startedResult (see Sandbox.run and docs/executor.md).
 */
import { resetLogs } from "./console.ts";
import { attempt } from "./describe.ts";
import { getEnv, setEnv } from "./env.ts";
import { Headers } from "./http/headers.ts";
import { Request } from "./http/request.ts";
import { NativePromise, ObjectFreeze, PromiseThen, ReflectApply } from "./intrinsics.ts";
import type { BeginPayload, InvokePayload, ModuleNamespace, RuntimeResult } from "./protocol.ts";
import { invalidReturn, serializeError, toResult } from "./result.ts";
import type { ScriptContext, ScriptHandler } from "./script-api.ts";
import { resetTimers } from "./timers.ts";

let handler: ScriptHandler | null = null;

/** Starts an invocation: fresh log counters and env; timers of earlier ones are dropped. */
export function begin(inv: BeginPayload): void {
  resetTimers();
  resetLogs(inv.maxLogLines, inv.maxLogBytes);
  setEnv(inv.env);
}

/** Takes the module namespace; returns an error message when the default export is unusable. */
export function setModule(ns: ModuleNamespace): string | null {
  const d = ns.default;
  if (
    typeof d === "function" ||
    (d !== null && typeof d === "object" && typeof (d as { fetch?: unknown }).fetch === "function")
  ) {
    handler = d as ScriptHandler;
    return null;
  }
  return "the default export must be a function or an object with a fetch(req, env, ctx) method";
}

export async function invoke(inv: InvokePayload): Promise<RuntimeResult> {
  // A warm run starts here (begin's own crossing saved); outside the try: a failure is the
  // runtime's, not the script's.
  if (inv.begin !== null && inv.begin !== undefined) begin(inv.begin);
  let value: unknown;
  try {
    const method = String(inv.method).toUpperCase();
    const hasBody = inv.body !== null && method !== "GET" && method !== "HEAD";
    // Headers the runtime cannot represent (e.g. HTTP/2 pseudo-headers) are dropped
    // rather than blamed on the script.
    const headers = new Headers();
    for (let i = 0; i < inv.headers.length; i++) {
      const h = inv.headers[i] as [string, string];
      attempt(() => headers.append(h[0], h[1]), null);
    }
    const req = new Request(inv.url, { method, headers, body: hasBody ? inv.body : null });
    const env = getEnv();
    const ctx: ScriptContext = ObjectFreeze({
      executionId: inv.executionId,
      scriptName: inv.scriptName,
      version: inv.version,
      env,
      waitUntil(p: unknown) {
        NativePromise.resolve(p).catch(() => {});
      },
    });
    const h = handler as ScriptHandler;
    value = typeof h === "function" ? await h(req, ctx) : await h.fetch(req, env, ctx);
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
let started: Promise<RuntimeResult> | null = null;
let settled: RuntimeResult | null = null;

export function invokeStart(inv: InvokePayload): void {
  settled = null;
  const p = invoke(inv);
  started = p;
  ReflectApply(PromiseThen, p, [
    (r: RuntimeResult) => {
      if (started === p) settled = r;
    },
    () => {},
  ]);
}

export function takeResult(): RuntimeResult | null {
  const r = settled;
  settled = null;
  if (r !== null) started = null;
  return r;
}

export function startedResult(): Promise<RuntimeResult> | null {
  const p = started;
  started = null;
  return p;
}
