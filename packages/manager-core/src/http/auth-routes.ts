import { type AppEnv, clientAddress } from "@picloud/http";
import { LoginSchema, PiCloudError, type SessionInfo } from "@picloud/shared";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AdminAuth } from "../auth/admin-auth.ts";
import type { AuthThrottle } from "../auth/auth-throttle.ts";
import { adminIdentity, isHttps, type SessionOptions, sessionCookie } from "./admin-guard.ts";

/**
 * Dashboard sign-in: the admin token is exchanged once for an HttpOnly, SameSite=Strict
 * session cookie — `__Host-picloud_session` (Secure) over HTTPS. Wrong tokens are counted
 * per address by `throttle`: past its allowance, sign-in answers 429 with Retry-After.
 */
export function authRoutes(
  auth: AdminAuth,
  opts: SessionOptions & { throttle: AuthThrottle; executeOrigin?: string | null },
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/api/auth/login", async (c) => {
    const address = clientAddress(c, opts.trustProxy ?? false);
    await opts.throttle.check(address);
    const parsed = LoginSchema.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) throw new PiCloudError("bad_request", 'body must be {"token": "<admin token>"}');
    if (!auth.verifyToken(parsed.data.token)) {
      await opts.throttle.fail(address);
      throw new PiCloudError("unauthorized", "invalid admin token");
    }
    await opts.throttle.succeed(address);
    const { id, expiresAt } = await auth.createSession(parsed.data.token);
    setCookie(c, sessionCookie(c, opts), id, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      secure: isHttps(c, opts),
      expires: expiresAt,
    });
    return c.body(null, 204);
  });
  app.post("/api/auth/logout", async (c) => {
    const name = sessionCookie(c, opts);
    const id = getCookie(c, name);
    if (id) await auth.deleteSession(id);
    deleteCookie(c, name, { path: "/", secure: isHttps(c, opts) });
    return c.body(null, 204);
  });
  app.get("/api/auth/session", async (c) => {
    const how = await adminIdentity(c, auth, opts);
    if (!how) throw new PiCloudError("unauthorized", "not signed in");
    // The dashboard shows script endpoints on the separate script origin when there is one.
    const info: SessionInfo = { authenticated: true, via: how, executeOrigin: opts.executeOrigin ?? null };
    return c.json(info);
  });
  return app;
}
