import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@picloud/http";
import { PiCloudError } from "@picloud/shared";
import type { AdminAuth } from "../auth/admin-auth.ts";
import type { ExecutionFeed } from "../events/execution-feed.ts";
import type { InvokeKeys } from "../scripts/invoke-keys.ts";
import type { ScriptService } from "../scripts/script-service.ts";
import { requireAdmin } from "./admin-guard.ts";
import { authRoutes } from "./auth-routes.ts";
import { type ExecutionLogsReader, logRoutes } from "./log-routes.ts";
import { type ScriptStatsFn, scriptRoutes } from "./script-routes.ts";

export interface ManagerApiDeps {
  auth: AdminAuth;
  scripts: ScriptService;
  keys: InvokeKeys;
  logs: ExecutionLogsReader;
  stats: ScriptStatsFn;
  feed: ExecutionFeed;
  secureCookies?: boolean;
  sseHeartbeatMs?: number;
  /** Aborted when the server starts draining: live log streams end. */
  shutdown?: AbortSignal;
}

/** The control plane's API: auth, scripts, versions, keys, logs. Validation errors use the contract. */
export function managerApi(d: ManagerApiDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
        throw new PiCloudError("bad_request", `invalid request: ${issues.join("; ")}`, {
          details: { issues: result.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
        });
      }
    },
  });
  app.route("/", authRoutes(d.auth, { secureCookies: d.secureCookies ?? false }));
  const guard = requireAdmin(d.auth);
  app.use("/api/scripts", guard);
  app.use("/api/scripts/*", guard);
  app.use("/api/executions/*", guard);
  app.route("/", scriptRoutes(d.scripts, d.keys, d.stats));
  app.route(
    "/",
    logRoutes(d.scripts, d.logs, d.feed, {
      heartbeatMs: d.sseHeartbeatMs ?? 15_000,
      ...(d.shutdown ? { shutdown: d.shutdown } : {}),
    }),
  );
  return app;
}
