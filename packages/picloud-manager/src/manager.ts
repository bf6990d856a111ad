import { CompilerProcess } from "@picloud/executor-core";
import { bearerIsOneOf, ExecuteOrigin, type Logger, type Metrics, serviceApp } from "@picloud/http";
import { announceAdminToken, httpBinary, type RunningHttpService, type ServiceContext } from "@picloud/http/node";
import {
  bearer,
  CONTROL_PLANE_BODY_CAPS,
  type ControlPlane,
  clusterRoutes,
  mountManagerApi,
  openControlPlane,
  PgChangeFeed,
  PostgresLogWriter,
} from "@picloud/manager-core";
import { budgetsFromEnv, PiCloudError } from "@picloud/shared";
import { loadManagerEnv, type ManagerEnv } from "./env.ts";

export interface ManagerServices extends ControlPlane {
  env: ManagerEnv;
  logger: Logger;
  metrics: Metrics;
  /** Compiles saved sources in a supervised child (a source that crashes esbuild is contained). */
  compiler: CompilerProcess;
  changes: PgChangeFeed;
  /** Aborted when the drain starts: open change streams and live log streams end. */
  shutdown: AbortSignal;
}

export type RunningManager = RunningHttpService<ManagerServices>;

/**
 * Opens the manager's services, registering each part on `ctx.resources` as it is opened:
 * a step that fails closes what came before (the pool when migrations fail), and a drain
 * closes them newest first (retention, database, compiler, change feed).
 */
export async function createManagerServices(
  { env, dataDir }: { env: ManagerEnv; dataDir: string },
  ctx: Pick<ServiceContext, "logger" | "metrics" | "resources" | "drain">,
): Promise<ManagerServices> {
  const { logger, metrics, resources } = ctx;
  // Committed changes go through PostgreSQL NOTIFY to every subscriber (orchestrators via SSE).
  const changes = resources.add("change feed", new PgChangeFeed({ url: env.DATABASE_URL, logger }), (c) => c.close());
  await changes.start();
  const compiler = resources.add("compiler", new CompilerProcess({ logger }), (c) => c.close());
  const plane = await openControlPlane({
    env,
    dataDir,
    maxConnections: env.PICLOUD_DB_MAX_CONNECTIONS,
    ceilings: budgetsFromEnv(env).ceilings,
    compile: (source, opts) => compiler.compile(source, opts),
    publish: (n) => void changes.publish(n),
    logger,
    resources,
  });
  metrics.gauge("picloud_change_feed", "Script change notices (PostgreSQL LISTEN/NOTIFY).", () => changes.stats());
  return { ...plane, env, logger, metrics, compiler, changes, shutdown: ctx.drain.signal };
}

/** The manager's HTTP app: system routes, the manager API (dashboard, CLI) and the cluster routes. */
export function buildManagerApp(s: ManagerServices, drain: { draining: () => boolean }) {
  const executeOrigin = new ExecuteOrigin(s.env.PICLOUD_EXECUTE_ORIGIN);
  const batches = { received: 0, rows: 0, inserted: 0 };
  const cluster = clusterRoutes({
    token: s.env.PICLOUD_CLUSTER_TOKEN,
    scripts: s.scripts,
    keys: s.keys,
    auth: s.auth,
    logs: new PostgresLogWriter(s.logs),
    feed: s.feed,
    changes: s.changes,
    shutdown: s.shutdown,
    logger: s.logger,
    onBatch: (rows, inserted) => {
      batches.received++;
      batches.rows += rows;
      batches.inserted += inserted;
    },
  });
  s.metrics.gauge("picloud_cluster_log_batches", "Execution-log batches received from orchestrators.", () => ({
    ...batches,
  }));
  s.metrics.gauge("picloud_cluster_change_streams", "Orchestrators following the change stream.", () => ({
    open: cluster.state.streams,
  }));
  return serviceApp({
    logger: s.logger,
    harden: { executeOrigin, bodyCaps: CONTROL_PLANE_BODY_CAPS },
    routes: (app) => {
      app.route("/", cluster);
      mountManagerApi(app, s, {
        env: s.env,
        executeOrigin: executeOrigin.origin,
        // Live log streams end when the drain starts (the dashboard reconnects elsewhere).
        shutdown: s.shutdown,
        title: "PiCloud manager",
      });
      // Invocations are the orchestrators' job: say so instead of a bare 404.
      app.all("/api/execute/*", () => {
        throw new PiCloudError(
          "not_found",
          "this is picloud-manager: invoke scripts through an orchestrator (Caddy routes /api/execute/* there)",
        );
      });
    },
    system: {
      info: { service: "picloud-manager", mode: "cluster", nodeId: s.env.PICLOUD_NODE_ID },
      checks: { database: () => s.database.ping(), compiler: () => s.compiler.ready() },
      draining: drain.draining,
      metrics: s.metrics,
      // The admin token, or the cluster token (what scrapes every binary of a cluster).
      metricsAuth: (c) => {
        const token = bearer(c);
        return !!token && (s.auth.verifyToken(token) || bearerIsOneOf(c, [s.env.PICLOUD_CLUSTER_TOKEN]));
      },
    },
  });
}

const manager = httpBinary("picloud-manager", loadManagerEnv, {
  open: createManagerServices,
  app: buildManagerApp,
  listening: ({ services, listening, logger }) => {
    logger.info({ url: listening.url }, "picloud-manager is listening");
    announceAdminToken(services.generatedAdminToken);
  },
});

export const startManager = manager.start;
export const main = manager.main;
