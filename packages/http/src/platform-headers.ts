import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./request-context.ts";

/**
 * Security headers on every answer of the platform itself (dashboard, API, probes), and on
 * none under `except` (script responses carry the script's own headers and the sandbox
 * policy instead: docs/security.md, "Headers"). Hono's secureHeaders sets them. The policy
 * of JSON answers lets nothing load, run or frame them; a Content-Security-Policy a route
 * set already (the dashboard's HTML) is kept.
 */
export function platformHeaders(opts: { except?: string[] } = {}): MiddlewareHandler<AppEnv> {
  const except = opts.except ?? [];
  const headers = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
    },
    overwrite: false,
    referrerPolicy: "no-referrer",
    xFrameOptions: "DENY",
    // HSTS is the TLS terminator's to send (Caddy): it would bind every subdomain.
    strictTransportSecurity: false,
  });
  return async (c, next) => {
    if (except.some((p) => c.req.path.startsWith(p))) return next();
    return headers(c, next);
  };
}
