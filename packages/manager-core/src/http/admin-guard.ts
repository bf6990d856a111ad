import type { AppEnv } from "@picloud/http";
import { PiCloudError } from "@picloud/shared";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { AdminAuth } from "../auth/admin-auth.ts";

export const SESSION_COOKIE = "picloud_session";
export const CSRF_HEADER = "x-picloud-csrf";

/** The bearer token of a request, if any. */
export function bearer(c: Context): string | null {
  const h = c.req.header("authorization");
  if (!h) return null;
  const m = /^Bearer\s+(.+)$/i.exec(h);
  return m?.[1]?.trim() ?? null;
}

/** How a request proved it is the admin, or null. */
export async function adminIdentity(c: Context, auth: AdminAuth): Promise<"token" | "session" | null> {
  const token = bearer(c);
  if (token && auth.verifyToken(token)) return "token";
  const session = getCookie(c, SESSION_COOKIE);
  if (session && (await auth.verifySession(session))) return "session";
  return null;
}

/**
 * Admin routes take `Authorization: Bearer <admin token>` or the dashboard's session
 * cookie. A cookie-authenticated write must carry `x-picloud-csrf`, which a cross-site
 * form cannot send (the cookie is SameSite=Strict as well).
 */
export function requireAdmin(auth: AdminAuth): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const how = await adminIdentity(c, auth);
    if (!how) {
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
