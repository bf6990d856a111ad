import type { AppEnv } from "@picloud/http";
import { PiCloudError } from "@picloud/shared";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import type { AdminAuth } from "../auth/admin-auth.ts";
import { adminIdentity, SESSION_COOKIE } from "./admin-guard.ts";

const LoginSchema = z.object({ token: z.string().min(1).max(512) });

/** Dashboard sign-in: the admin token is exchanged once for an HttpOnly session cookie. */
export function authRoutes(auth: AdminAuth, opts: { secureCookies: boolean }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/api/auth/login", async (c) => {
    const parsed = LoginSchema.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) throw new PiCloudError("bad_request", 'body must be {"token": "<admin token>"}');
    const { id, expiresAt } = await auth.createSession(parsed.data.token);
    setCookie(c, SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      secure: opts.secureCookies,
      expires: expiresAt,
    });
    return c.body(null, 204);
  });
  app.post("/api/auth/logout", async (c) => {
    const id = getCookie(c, SESSION_COOKIE);
    if (id) await auth.deleteSession(id);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.body(null, 204);
  });
  app.get("/api/auth/session", async (c) => {
    const how = await adminIdentity(c, auth);
    if (!how) throw new PiCloudError("unauthorized", "not signed in");
    return c.json({ authenticated: true, via: how });
  });
  return app;
}
