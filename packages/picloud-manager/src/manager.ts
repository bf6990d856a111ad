import { CompilerProcess } from "@picloud/executor-core";
import {
  type AppEnv,
  bearerIsOneOf,
  createLogger,
  ExecuteOrigin,
  harden,
  installMethodNotAllowed,
  type Logger,
  Metrics,
  notFound,
  onError,
  PICLOUD_VERSION,
  requestContext,
  systemRoutes,
} from "@picloud/http";
import { announceAdminToken, Drain, type Listening, runMain, serveApp } from "@picloud/http/node";
import {
  AdminAuth,
  bearer,
  CONTROL_PLANE_BODY_CAPS,
  clusterRoutes,
  type Database,
  ExecutionFeed,
  ExecutionLogsRepository,
  InvokeKeys,
  loadOrCreateKey,
  mountManagerApi,
  openDatabase,
  PgChangeFeed,
  PostgresLogWriter,
  RetentionJob,
  ScriptService,
  SecretBox,
} from "@picloud/manager-core";
import { budgetsFromEnv, PiCloudError, serverLimitsFromEnv } from "@picloud/shared";
import { Hono } from "hono";
import { loadManagerEnv, type ManagerEnv } from "./env.ts";

export interface ManagerServices {
  env: ManagerEnv;
  logger: Logger;
  metrics: Metrics;
  database: Database;
  auth: AdminAuth;
  generatedAdminToken: string | null;
  scripts: ScriptService;
  /** Compiles saved sources in a supervised child (a source that crashes esbuild is contained). */
  compiler: CompilerProcess;
  keys: InvokeKeys;
  logs: ExecutionLogsRepository;
  feed: ExecutionFeed;
  changes: PgChangeFeed;
  /** Aborted when the drain starts: open change streams and live log streams end. */
  shutdown: AbortController;
  close(): Promise<void>;
}

export async function createManagerServices(
  env: ManagerEnv,
  dataDir: string,
  o: { logger?: Logger } = {},
): Promise<ManagerServices> {
  const logger =
    o.logger ?? createLogger({ name: "picloud-manager", level: env.PICLOUD_LOG_LEVEL, nodeId: env.PICLOUD_NODE_ID });
  const { ceilings } = budgetsFromEnv(env);
  const metrics = new Metrics();
  const database = await openDatabase({ url: env.DATABASE_URL, maxConnections: env.PICLOUD_DB_MAX_CONNECTIONS });
  try {
    await database.migrate();
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
  const changes = new PgChangeFeed({ url: env.DATABASE_URL, logger });
  await changes.start();
  const { auth, generated } = await AdminAuth.init(database.db, env.PICLOUD_ADMIN_TOKEN);
  const secrets = new SecretBox(loadOrCreateKey(env.PICLOUD_ENCRYPTION_KEY, dataDir));
  const compiler = new CompilerProcess({
    onCrash: ({ reason, filename }) => logger.warn({ reason, filename }, "the compiler crashed on a source; restarted"),
  });
  const scripts = new ScriptService({
    db: database.db,
    compile: (source, opts) => compiler.compile(source, opts),
    secrets,
    ceilings,
    // Committed changes go through PostgreSQL NOTIFY to every subscriber (orchestrators via SSE).
    publish: (n) => void changes.publish(n),
  });
  const keys = new InvokeKeys(database.db);
  const logs = new ExecutionLogsRepository(database.db);
  const feed = new ExecutionFeed();
  const retention = new RetentionJob({
    repository: logs,
    maxAgeMs: env.PICLOUD_LOG_RETENTION_DAYS * 24 * 3600 * 1000,
    logger,
  });
  retention.start();
  const shutdown = new AbortController();
  metrics.gauge("picloud_change_feed", "Script change notices (PostgreSQL LISTEN/NOTIFY).", () => changes.stats());
  return {
    env,
    logger,
    metrics,
    database,
    auth,
    generatedAdminToken: generated,
    scripts,
    compiler,
    keys,
    logs,
    feed,
    changes,
    shutdown,
    async close() {
      shutdown.abort();
      await compiler.close();
      await retention.stop();
      await changes.close().catch((err: unknown) => logger.error({ err }, "change feed close failed"));
      await database.close();
    },
  };
}

/** The manager's HTTP app: system routes, the manager API (dashboard, CLI) and the cluster routes. */
export function buildManagerApp(s: ManagerServices, o: { draining: () => boolean }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound(notFound);
  app.use("*", requestContext(s.logger));
  const executeOrigin = new ExecuteOrigin(s.env.PICLOUD_EXECUTE_ORIGIN);
  harden(app, { executeOrigin, bodyCaps: CONTROL_PLANE_BODY_CAPS });
  const batches = { received: 0, rows: 0, inserted: 0 };
  const cluster = clusterRoutes({
    token: s.env.PICLOUD_CLUSTER_TOKEN,
    scripts: s.scripts,
    keys: s.keys,
    auth: s.auth,
    logs: new PostgresLogWriter(s.logs),
    feed: s.feed,
    changes: s.changes,
    shutdown: s.shutdown.signal,
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
  app.route(
    "/",
    systemRoutes({
      info: { service: "picloud-manager", version: PICLOUD_VERSION, mode: "cluster", nodeId: s.env.PICLOUD_NODE_ID },
      checks: { database: () => s.database.ping(), compiler: () => s.compiler.ready() },
      draining: o.draining,
      metrics: s.metrics,
      // The admin token, or the cluster token (what scrapes every binary of a cluster).
      metricsAuth: (c) => {
        const token = bearer(c);
        return !!token && (s.auth.verifyToken(token) || bearerIsOneOf(c, [s.env.PICLOUD_CLUSTER_TOKEN]));
      },
    }),
  );
  app.route("/", cluster);
  mountManagerApi(app, {
    auth: s.auth,
    scripts: s.scripts,
    keys: s.keys,
    logs: s.logs,
    feed: s.feed,
    secureCookies: s.env.PICLOUD_SECURE_COOKIES,
    trustProxy: s.env.PICLOUD_TRUST_PROXY,
    executeOrigin: executeOrigin.origin,
    // Live log streams end when the drain starts (the dashboard reconnects elsewhere).
    shutdown: s.shutdown.signal,
    title: "PiCloud manager",
    version: PICLOUD_VERSION,
  });
  // Invocations are the orchestrators' job: say so instead of a bare 404.
  app.all("/api/execute/*", () => {
    throw new PiCloudError(
      "not_found",
      "this is picloud-manager: invoke scripts through an orchestrator (Caddy routes /api/execute/* there)",
    );
  });
  installMethodNotAllowed(app);
  return app;
}

export interface RunningManager {
  services: ManagerServices;
  listening: Listening;
  stop(): Promise<void>;
}

export async function startManager(
  source: Record<string, string | undefined> = process.env,
  opts: { installSignals?: boolean; logger?: Logger } = {},
): Promise<RunningManager> {
  const { env, warnings, dataDir } = loadManagerEnv(source);
  const services = await createManagerServices(env, dataDir, opts);
  const { logger } = services;
  for (const w of warnings) logger.warn(w);
  const drain = new Drain();
  const app = buildManagerApp(services, { draining: drain.draining });
  const served = await serveApp(app, drain, {
    port: env.PORT,
    host: env.HOST,
    logger,
    timeoutMs: env.PICLOUD_SHUTDOWN_TIMEOUT_MS,
    limits: serverLimitsFromEnv(env),
    cleanup: () => services.close(),
    installSignals: opts.installSignals ?? false,
    onDrainStart: () => {
      // Change streams and live log streams never end by themselves: end them so the server can close.
      services.shutdown.abort();
    },
  });
  logger.info({ url: served.listening.url }, "picloud-manager is listening");
  announceAdminToken(services.generatedAdminToken);
  return { services, ...served };
}

export function main(): Promise<void> {
  return runMain("picloud-manager", () => startManager(process.env, { installSignals: true }));
}
