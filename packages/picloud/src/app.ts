import {
  type AppEnv,
  installMethodNotAllowed,
  notFound,
  onError,
  PICLOUD_VERSION,
  requestContext,
  systemRoutes,
} from "@picloud/http";
import { adminIdentity, managerApi } from "@picloud/manager-core";
import { executeRoutes } from "@picloud/orchestrator-core";
import { PiCloudError } from "@picloud/shared";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { mountDashboard } from "./dashboard.ts";
import { registerExtraPaths } from "./openapi.ts";
import type { Services } from "./services.ts";

export interface AppOptions {
  dashboardDir: string;
  /** True once shutdown began: /ready answers 503. */
  draining: () => boolean;
  /** Aborted when the drain starts: long-lived streams end. */
  shutdown?: AbortSignal;
}

/**
 * Builds the all-in-one HTTP app from its services (the `build_app` seam): system
 * routes, the manager API, invocation, the dashboard, the error contract.
 */
export function buildApp(s: Services, o: AppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound(notFound);
  app.use("*", requestContext(s.logger));
  app.route(
    "/",
    systemRoutes({
      info: { service: "picloud", version: PICLOUD_VERSION, mode: "single", nodeId: s.env.PICLOUD_NODE_ID },
      checks: { database: () => s.database.ping(), executor: () => s.executor.ready() },
      draining: o.draining,
      metrics: s.metrics,
    }),
  );
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
  const api = managerApi({
    auth: s.auth,
    scripts: s.scripts,
    keys: s.keys,
    logs: s.logs,
    stats: (ids) => s.logs.statsForScripts(ids, new Date(Date.now() - 24 * 3600 * 1000)),
    feed: s.feed,
    secureCookies: s.env.PICLOUD_SECURE_COOKIES,
    ...(o.shutdown ? { shutdown: o.shutdown } : {}),
  });
  registerExtraPaths(api);
  app.get("/openapi.json", (c) =>
    c.json(
      api.getOpenAPI31Document({
        openapi: "3.1.0",
        info: { title: "PiCloud", version: PICLOUD_VERSION, description: "Upload a script, get an HTTP endpoint." },
      }),
    ),
  );
  app.route("/", api);
  app.route(
    "/",
    executeRoutes(s.orchestrator, async (c) => (await adminIdentity(c, s.auth)) ?? false),
  );
  installMethodNotAllowed(app);
  mountDashboard(app, o.dashboardDir);
  return app;
}
