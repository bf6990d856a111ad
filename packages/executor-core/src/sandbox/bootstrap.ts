/**
 * The runtime's entry (docs/executor.md, "Runtime layout"). esbuild bundles this module and
 * its imports into one script whose value is {@link bootstrap}; the host calls it once per
 * isolate, before any script code, with its callbacks, and gets the entry points back by name.
 */
import { installGlobals } from "./globals.ts";
import { bindHost } from "./host.ts";
import { ObjectFreeze } from "./intrinsics.ts";
import { begin, invoke, invokeStart, setModule, startedResult, takeResult } from "./invoke.ts";
import type { Bootstrap, RuntimeEntryPoints } from "./protocol.ts";

export const bootstrap: Bootstrap = (host) => {
  bindHost(host);
  installGlobals();
  const entries: RuntimeEntryPoints = { begin, setModule, invoke, invokeStart, takeResult, startedResult };
  return ObjectFreeze(entries);
};
