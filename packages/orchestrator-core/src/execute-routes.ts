import { type AppEnv, ExecuteOrigin, safeDecode } from "@picloud/http";
import { CSRF_HEADER, PiCloudError } from "@picloud/shared";
import type { Context } from "hono";
import { Hono } from "hono";
import type { Orchestrator } from "./orchestrator.ts";

const PREFIX = "/api/execute/";

export interface ExecuteRoutesOptions {
  /** The operator's separate script origin, if any (`PICLOUD_EXECUTE_ORIGIN`). */
  executeOrigin?: ExecuteOrigin;
}

/**
 * `ANY /api/execute/{id|name}[/rest]` (docs/api.md, "Invocation"). `isAdmin` tells whether
 * the caller is the admin (token or dashboard session): only then may it invoke a private
 * script without a key, and mark the run as a test.
 *
 * Every answer on the platform's origin carries the sandbox policy. With a separate script
 * origin, answers there go without it, and the platform's origin keeps answering only the
 * dashboard's test calls (they carry the CSRF header, so no page can be navigated there):
 * docs/security.md, "Script output".
 */
export function executeRoutes(
  orchestrator: Orchestrator,
  isAdmin: (c: Context<AppEnv>) => Promise<boolean | "token" | "session">,
  opts: ExecuteRoutesOptions = {},
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const origin = opts.executeOrigin ?? new ExecuteOrigin(null);
  const handler = async (c: Context<AppEnv>) => {
    const onScriptOrigin = origin.matches(c);
    if (origin.origin && !onScriptOrigin && !c.req.header(CSRF_HEADER)) {
      throw new PiCloudError("not_found", `scripts are served at ${origin.origin}${c.req.path}`, {
        details: { executeOrigin: origin.origin },
      });
    }
    const path = c.req.path;
    const after = path.slice(PREFIX.length);
    const slash = after.indexOf("/");
    const idOrName = safeDecode(slash === -1 ? after : after.slice(0, slash));
    if (idOrName === null) throw new PiCloudError("bad_request", "the script name is not valid percent-encoding");
    const restPath = slash === -1 ? "/" : after.slice(slash);
    const how = await isAdmin(c);
    const admin = how !== false;
    const adminVia = how === "token" || how === "session" ? how : null;
    const trigger = admin && c.req.header("x-picloud-trigger") === "test" ? "test" : "http";
    return orchestrator.invoke(c.req.raw, { idOrName, restPath, admin, adminVia, trigger, sandbox: !onScriptOrigin });
  };
  app.all("/api/execute/:id", handler);
  app.all("/api/execute/:id/*", handler);
  return app;
}
