import type { AppEnv } from "@picloud/http";
import type { Context } from "hono";
import { Hono } from "hono";
import type { Orchestrator } from "./orchestrator.ts";

const PREFIX = "/api/execute/";

/**
 * `ANY /api/execute/{id|name}[/rest]` (DESIGN §4). `isAdmin` tells whether the caller is
 * the admin (token or dashboard session): only then may it invoke a private script without
 * a key, and mark the run as a test.
 */
export function executeRoutes(
  orchestrator: Orchestrator,
  isAdmin: (c: Context<AppEnv>) => Promise<boolean | "token" | "session">,
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const handler = async (c: Context<AppEnv>) => {
    const path = c.req.path;
    const after = path.slice(PREFIX.length);
    const slash = after.indexOf("/");
    const idOrName = decodeURIComponent(slash === -1 ? after : after.slice(0, slash));
    const restPath = slash === -1 ? "/" : after.slice(slash);
    const how = await isAdmin(c);
    const admin = how !== false;
    const adminVia = how === "token" || how === "session" ? how : null;
    const trigger = admin && c.req.header("x-picloud-trigger") === "test" ? "test" : "http";
    return orchestrator.invoke(c.req.raw, { idOrName, restPath, admin, adminVia, trigger });
  };
  app.all("/api/execute/:id", handler);
  app.all("/api/execute/:id/*", handler);
  return app;
}
