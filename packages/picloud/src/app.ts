import {
  type AppEnv,
  ExecuteOrigin,
  harden,
  installMethodNotAllowed,
  notFound,
  onError,
  PICLOUD_VERSION,
  requestContext,
  systemRoutes,
} from "@picloud/http";
import { adminIdentity, bearer, CONTROL_PLANE_BODY_CAPS, mountManagerApi } from "@picloud/manager-core";
import { executeRoutes } from "@picloud/orchestrator-core";
import { Hono } from "hono";
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
 * in front (headers, input checks, body caps, the script origin: docs/security.md), system
 * routes, the manager API, invocation, the dashboard, the error contract.
 */
export function buildApp(s: Services, o: AppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const executeOrigin = new ExecuteOrigin(s.env.PICLOUD_EXECUTE_ORIGIN);
  const session = { forceSecure: s.env.PICLOUD_SECURE_COOKIES, trustProxy: s.env.PICLOUD_TRUST_PROXY };
  app.onError(onError);
  app.notFound(notFound);
  app.use("*", requestContext(s.logger));
  harden(app, { executeOrigin, bodyCaps: CONTROL_PLANE_BODY_CAPS });
  app.route(
    "/",
    systemRoutes({
      info: { service: "picloud", version: PICLOUD_VERSION, mode: "single", nodeId: s.env.PICLOUD_NODE_ID },
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
    }),
  );
  mountManagerApi(app, {
    auth: s.auth,
    scripts: s.scripts,
    keys: s.keys,
    logs: s.logs,
    feed: s.feed,
    secureCookies: session.forceSecure,
    trustProxy: session.trustProxy,
    executeOrigin: executeOrigin.origin,
    ...(o.shutdown ? { shutdown: o.shutdown } : {}),
    title: "PiCloud",
    version: PICLOUD_VERSION,
    description: "Upload a script, get an HTTP endpoint.",
    extendDocument: registerExtraPaths,
  });
  app.route(
    "/",
    executeRoutes(s.orchestrator, async (c) => (await adminIdentity(c, s.auth, session)) ?? false, { executeOrigin }),
  );
  installMethodNotAllowed(app);
  mountDashboard(app, o.dashboardDir);
  return app;
}
