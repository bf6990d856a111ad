import { type AppEnv, ExecuteOrigin, serviceApp } from "@picloud/http";
import { adminIdentity, bearer, CONTROL_PLANE_BODY_CAPS, mountManagerApi } from "@picloud/manager-core";
import { executeRoutes } from "@picloud/orchestrator-core";
import type { Hono } from "hono";
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
 * Builds the all-in-one HTTP app from its services (the `build_app` seam): the hardening
 * in front (headers, input checks, body caps, the script origin: docs/security.md), the
 * manager API, invocation, system routes, the dashboard, the error contract.
 */
export function buildApp(s: Services, o: AppOptions): Hono<AppEnv> {
  const executeOrigin = new ExecuteOrigin(s.env.PICLOUD_EXECUTE_ORIGIN);
  const session = { forceSecure: s.env.PICLOUD_SECURE_COOKIES, trustProxy: s.env.PICLOUD_TRUST_PROXY };
  return serviceApp({
    logger: s.logger,
    harden: { executeOrigin, bodyCaps: CONTROL_PLANE_BODY_CAPS },
    routes: (app) => {
      mountManagerApi(app, s, {
        env: s.env,
        executeOrigin: executeOrigin.origin,
        ...(o.shutdown ? { shutdown: o.shutdown } : {}),
        title: "PiCloud",

        description: "Upload a script, get an HTTP endpoint.",
        extendDocument: registerExtraPaths,
      });
      const isAdmin = async (c: Parameters<typeof adminIdentity>[0]) =>
        (await adminIdentity(c, s.auth, session)) ?? false;
      app.route("/", executeRoutes(s.orchestrator, isAdmin, { executeOrigin }));
    },
    system: {
      info: { service: "picloud", mode: "single", nodeId: s.env.PICLOUD_NODE_ID },
      checks: {
        database: () => s.database.ping(),
        executor: () => s.executor.ready(),
        compiler: () => s.compiler.ready(),
      },
      draining: o.draining,
      metrics: s.metrics,
      // Metrics name every script, private ones included: the admin token only.
      metricsAuth: (c) => {
        const token = bearer(c);
        return !!token && s.auth.verifyToken(token);
      },
    },
    fallback: (app) => mountDashboard(app, o.dashboardDir),
  });
}
