import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { type Logger, plainLogger } from "./logger.ts";

/** Variables every PiCloud Hono app puts on the context. */
export interface AppVariables {
  requestId: string;
  log: Logger;
}
export type AppEnv = { Variables: AppVariables };

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives each request an id (a sane incoming `x-request-id`, else a new one), a child
 * logger carrying it, echoes it in the answer, and writes one access-log line.
 */
export function requestContext(logger: Logger, opts: { quietPaths?: string[] } = {}): MiddlewareHandler<AppEnv> {
  const quiet = new Set(opts.quietPaths ?? ["/health", "/ready", "/metrics"]);
  // The access line holds only the fields below: the same line as `log.info` would write,
  // without the redaction pass (see plainLogger).
  const access = plainLogger(logger);
  return async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    const log = logger.child({ requestId });
    c.set("requestId", requestId);
    c.set("log", log);
    const started = performance.now();
    await next();
    c.res.headers.set("x-request-id", requestId);
    const path = c.req.path;
    if (!quiet.has(path)) {
      access.info(
        {
          requestId,
          method: c.req.method,
          path,
          status: c.res.status,
          ms: Math.round((performance.now() - started) * 10) / 10,
        },
        "request",
      );
    }
  };
}
