import { type AppEnv, clientAddress } from "@picloud/http";
import {
  bearerToken,
  CSRF_HEADER,
  isHttpsRequest,
  isInvokeKey,
  PiCloudError,
  sessionCookieName,
} from "@picloud/shared";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { AdminAuth } from "../auth/admin-auth.ts";
import type { AuthThrottle } from "../auth/auth-throttle.ts";

/** How the session cookie and the caller's address are read (from configuration). */
export interface SessionOptions {
  /** `PICLOUD_SECURE_COOKIES`: treat every request as HTTPS (`__Host-` cookie, Secure). */
  forceSecure?: boolean;
  /** `PICLOUD_TRUST_PROXY`: the caller's address is the last X-Forwarded-For entry. */
  trustProxy?: boolean;
}

/** Whether this request reached the platform over HTTPS (its session cookie is then `__Host-`). */
export function isHttps(c: Context, o: SessionOptions = {}): boolean {
  return isHttpsRequest(c.req.url, c.req.header("x-forwarded-proto"), o.forceSecure ?? false);
}

/** The session cookie's name for this request. */
export function sessionCookie(c: Context, o: SessionOptions = {}): string {
  return sessionCookieName(isHttps(c, o));
}

/** The bearer token of a request, if any. */
export function bearer(c: Context): string | null {
  return bearerToken(c.req.header("authorization"));
}

/** How a request proved it is the admin, or null. */
export async function adminIdentity(
  c: Context,
  auth: AdminAuth,
  o: SessionOptions = {},
): Promise<"token" | "session" | null> {
  const token = bearer(c);
  if (token && auth.verifyToken(token)) return "token";
  const session = getCookie(c, sessionCookie(c, o));
  if (session && (await auth.verifySession(session))) return "session";
  return null;
}

/**
 * Admin routes take `Authorization: Bearer <admin token>` or the dashboard's session
 * cookie. A cookie-authenticated write must carry `x-picloud-csrf`, which a cross-site
 * form cannot send (the cookie is SameSite=Strict as well). Wrong bearer tokens count
 * against the caller's address in `throttle` (429 once over).
 */
export function requireAdmin(
  auth: AdminAuth,
  o: SessionOptions & { throttle?: AuthThrottle } = {},
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const presented = bearer(c);
    const address = clientAddress(c, o.trustProxy ?? false);
    if (presented && o.throttle) await o.throttle.check(address);
    const how = await adminIdentity(c, auth, o);
    if (!how) {
      if (presented && !isInvokeKey(presented)) await o.throttle?.fail(address);
      throw new PiCloudError("unauthorized", "admin token required: send Authorization: Bearer <token>", {
        headers: { "WWW-Authenticate": 'Bearer realm="picloud"' },
      });
    }
    if (how === "session" && !["GET", "HEAD", "OPTIONS"].includes(c.req.method) && !c.req.header(CSRF_HEADER)) {
      throw new PiCloudError("forbidden", `cookie-authenticated writes need the ${CSRF_HEADER} header`);
    }
    await next();
  };
}
