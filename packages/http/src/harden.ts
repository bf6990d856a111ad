import type { Hono } from "hono";
import { type BodyCapRule, bodyCaps } from "./body-cap.ts";
import { EXECUTE_PREFIX, type ExecuteOrigin } from "./execute-origin.ts";
import { platformHeaders } from "./platform-headers.ts";
import type { AppEnv } from "./request-context.ts";
import { requestSanity } from "./request-sanity.ts";

export interface HardenOptions {
  /** The separate script origin, if any: everything else refuses to answer there. */
  executeOrigin?: ExecuteOrigin | undefined;
  /** Body caps of the app's own routes (first match wins); others get the default 64 KiB. */
  bodyCaps?: BodyCapRule[];
}

/**
 * What every PiCloud app puts in front of its routes (docs/security.md): security headers
 * on the platform's own answers, 400 for malformed percent-encoding or NUL in a path or
 * query, the script origin kept apart, and a cap on every body before anything reads it.
 * Invocation bodies are capped per script by the orchestrator instead.
 */
export function harden(app: Hono<AppEnv>, o: HardenOptions = {}): void {
  app.use("*", platformHeaders({ except: [EXECUTE_PREFIX] }));
  app.use("*", requestSanity({ passThrough: [EXECUTE_PREFIX] }));
  if (o.executeOrigin) app.use("*", o.executeOrigin.platformOnly());
  app.use("*", bodyCaps([{ prefix: EXECUTE_PREFIX, maxBytes: null }, ...(o.bodyCaps ?? [])]));
}
