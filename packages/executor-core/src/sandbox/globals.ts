/**
 * The global object scripts see: web APIs in, WebAssembly out (its memory would escape the
 * heap limit's accounting and it is a large attack surface we do not need). The values are
 * checked against the script-facing declarations (script-api.ts).
 */
import { console, log } from "./console.ts";
import { crypto } from "./crypto.ts";
import { DOMException } from "./dom-exception.ts";
import { atob, btoa, TextDecoder, TextEncoder } from "./encoding.ts";
import { getEnv } from "./env.ts";
import { AbortController, AbortSignal, Event, EventTarget } from "./events.ts";
import { fetch } from "./http/fetch.ts";
import { Headers } from "./http/headers.ts";
import { Request } from "./http/request.ts";
import { Response } from "./http/response.ts";
import { ObjectDefineProperty } from "./intrinsics.ts";
import { performance } from "./performance.ts";
import type { ScriptGlobals } from "./script-api.ts";
import { structuredClone } from "./structured-clone.ts";
import { clearTimeout, queueMicrotask, setInterval, setTimeout } from "./timers.ts";
import { URL, URLSearchParams } from "./url.ts";

const globals: ScriptGlobals = {
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

/** Puts the web APIs on the global object (once, before any script code runs). */
export function installGlobals(): void {
  for (const name of Object.keys(globals) as (keyof ScriptGlobals)[]) {
    ObjectDefineProperty(globalThis, name, {
      value: globals[name],
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  Reflect.deleteProperty(globalThis, "WebAssembly");
  ObjectDefineProperty(globalThis, "env", { get: getEnv, enumerable: false, configurable: false });
  ObjectDefineProperty(globalThis, "self", {
    value: globalThis,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
