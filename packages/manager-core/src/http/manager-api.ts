import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@picloud/http";
import { PiCloudError } from "@picloud/shared";
import type { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AdminAuth } from "../auth/admin-auth.ts";
import type { ExecutionFeed } from "../events/execution-feed.ts";
import type { ExecutionLogsRepository } from "../logs/execution-logs-repository.ts";
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

/** What `mountManagerApi` needs: the services (stats come from the logs repository). */
export interface MountManagerApiOptions extends Omit<ManagerApiDeps, "stats" | "logs"> {
  logs: ExecutionLogsReader & Pick<ExecutionLogsRepository, "statsForScripts">;
  /** OpenAPI document info. */
  title: string;
  version: string;
  description?: string;
  /** Adds paths that are not zod-openapi routes (system, invocation) to the document. */
  extendDocument?: (api: OpenAPIHono<AppEnv>) => void;
}

/**
 * Mounts the control plane on an app, as both the all-in-one server and picloud-manager
 * serve it: the 2 MiB body cap on script writes, the manager API, and /openapi.json.
 */
export function mountManagerApi(app: Hono<AppEnv>, o: MountManagerApiOptions): OpenAPIHono<AppEnv> {
  // Control-plane bodies (script sources, env) stay small; invocation bodies are capped
  // per script by the orchestrator instead.
  app.use(
    "/api/scripts/*",
    bodyLimit({
      maxSize: 2 * 1024 * 1024,
      onError: () => {
        throw new PiCloudError("payload_too_large", "request body is over 2 MiB");
      },
    }),
  );
  const { title, version, description, extendDocument, ...deps } = o;
  const api = managerApi({
    ...deps,
    stats: (ids) => o.logs.statsForScripts(ids, new Date(Date.now() - 24 * 3600 * 1000)),
  });
  extendDocument?.(api);
  app.get("/openapi.json", (c) =>
    c.json(
      api.getOpenAPI31Document({
        openapi: "3.1.0",
        info: { title, version, ...(description ? { description } : {}) },
      }),
    ),
  );
  app.route("/", api);
  return api;
}
