import { OpenAPIHono } from "@hono/zod-openapi";
import { type AppEnv, BODY_CAPS, type BodyCapRule, PICLOUD_VERSION } from "@picloud/http";
import { CLUSTER_ROUTES, type ControlPlaneEnv, clusterPath, PiCloudError } from "@picloud/shared";
import type { Hono } from "hono";
import type { AdminAuth } from "../auth/admin-auth.ts";
import { AuthThrottle } from "../auth/auth-throttle.ts";
import type { ExecutionFeed } from "../events/execution-feed.ts";
import type { ExecutionLogsRepository } from "../logs/execution-logs-repository.ts";
import type { InvokeKeys } from "../scripts/invoke-keys.ts";
import type { ScriptService } from "../scripts/script-service.ts";
import { requireAdmin } from "./admin-guard.ts";
import { authRoutes } from "./auth-routes.ts";
import { registerPlatformPaths } from "./document.ts";
import { type ExecutionLogsReader, logRoutes } from "./log-routes.ts";
import { type ScriptStatsFn, scriptRoutes } from "./script-routes.ts";

export interface ManagerApiDeps {
  auth: AdminAuth;
  scripts: ScriptService;
  keys: InvokeKeys;
  logs: ExecutionLogsReader;
  stats: ScriptStatsFn;
  feed: ExecutionFeed;
  /** `PICLOUD_SECURE_COOKIES`: every request counts as HTTPS (`__Host-` Secure cookie). */
  secureCookies?: boolean;
  /** `PICLOUD_TRUST_PROXY`: a caller's address is the last X-Forwarded-For entry. */
  trustProxy?: boolean;
  /** Counts wrong admin tokens at sign-in per address (default: 10 a minute). */
  throttle?: AuthThrottle;
  /** Counts wrong bearer tokens on admin routes per address (default: 60 a minute). */
  apiThrottle?: AuthThrottle;
  /** The separate script origin, told to the dashboard (`PICLOUD_EXECUTE_ORIGIN`). */
  executeOrigin?: string | null;
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
  const session = { forceSecure: d.secureCookies ?? false, trustProxy: d.trustProxy ?? false };
  const throttle = d.throttle ?? new AuthThrottle();
  app.route("/", authRoutes(d.auth, { ...session, throttle, executeOrigin: d.executeOrigin ?? null }));
  // Scripts and scrapers present bearer tokens unattended: a wider allowance, so that a stale
  // token in a cron job does not lock its address out for long, while guessing stays hopeless.
  const guard = requireAdmin(d.auth, { ...session, throttle: d.apiThrottle ?? new AuthThrottle({ failures: 60 }) });
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

/** Body caps of the control plane's routes (docs/api.md, "Limits"); everything else gets 64 KiB. */
export const CONTROL_PLANE_BODY_CAPS: BodyCapRule[] = [
  { prefix: "/api/auth/", maxBytes: BODY_CAPS.auth },
  { prefix: "/api/scripts", maxBytes: BODY_CAPS.scripts },
  // Log batches from orchestrators carry their own, larger cap (cluster-routes.ts).
  { prefix: clusterPath(CLUSTER_ROUTES.executionLogs.path), maxBytes: null },
];

/** What `mountManagerApi` needs besides the control plane's services. */
export interface MountManagerApiOptions
  extends Omit<ManagerApiDeps, "stats" | keyof ControlPlaneServices | "secureCookies" | "trustProxy"> {
  /** `PICLOUD_SECURE_COOKIES` and `PICLOUD_TRUST_PROXY`. */
  env: Pick<ControlPlaneEnv, "PICLOUD_SECURE_COOKIES" | "PICLOUD_TRUST_PROXY">;
  /** OpenAPI document info (the version: this build's). */
  title: string;
  description?: string;
  /** Adds paths served by other parts of the binary (invocation) to the document. */
  extendDocument?: (api: OpenAPIHono<AppEnv>) => void;
}

/** The services the manager API serves (`openControlPlane` opens them); stats come from the logs repository. */
export type ControlPlaneServices = Pick<ManagerApiDeps, "auth" | "scripts" | "keys" | "feed"> & {
  logs: ExecutionLogsReader & Pick<ExecutionLogsRepository, "statsForScripts">;
};

/**
 * Mounts the control plane on an app, as both the all-in-one server and picloud-manager
 * serve it: the manager API and /openapi.json. Bodies are capped by the app's `bodyCaps`
 * (2 MiB for script writes, 4 KiB for sign-in: docs/api.md, "Limits").
 */
export function mountManagerApi(
  app: Hono<AppEnv>,
  services: ControlPlaneServices,
  o: MountManagerApiOptions,
): OpenAPIHono<AppEnv> {
  const { title, description, extendDocument, env, ...deps } = o;
  const api = managerApi({
    ...deps,
    auth: services.auth,
    scripts: services.scripts,
    keys: services.keys,
    logs: services.logs,
    feed: services.feed,
    secureCookies: env.PICLOUD_SECURE_COOKIES,
    trustProxy: env.PICLOUD_TRUST_PROXY,
    stats: (ids) => services.logs.statsForScripts(ids, new Date(Date.now() - 24 * 3600 * 1000)),
  });
  registerPlatformPaths(api);
  extendDocument?.(api);
  app.get("/openapi.json", (c) =>
    c.json(
      api.getOpenAPI31Document({
        openapi: "3.1.0",
        info: { title, version: PICLOUD_VERSION, ...(description ? { description } : {}) },
      }),
    ),
  );
  app.route("/", api);
  return api;
}
