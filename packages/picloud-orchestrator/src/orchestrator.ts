import { RemoteExecutor } from "@picloud/executor-core";
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
import { Drain, type Listening, runMain, serveApp } from "@picloud/http/node";
import { BufferedLogSink, SpillStore } from "@picloud/log-pipeline";
import {
  executeRoutes,
  HttpLogWriter,
  HttpScriptSource,
  ManagerClient,
  Orchestrator,
  ScriptCache,
  SseChangeFeed,
} from "@picloud/orchestrator-core";
import { bearerToken, budgetsFromEnv, isInvokeKey, serverLimitsFromEnv, sessionCookieName } from "@picloud/shared";
import { type Context, Hono } from "hono";
import { getCookie } from "hono/cookie";
import { loadOrchestratorEnv, type OrchestratorEnv } from "./env.ts";

/** Response header naming the orchestrator that served an invocation. */
export const NODE_HEADER = "x-picloud-node";

export interface OrchestratorServices {
  env: OrchestratorEnv;
  logger: Logger;
  metrics: Metrics;
  manager: ManagerClient;
  source: HttpScriptSource;
  changes: SseChangeFeed;
  cache: ScriptCache;
  executor: RemoteExecutor;
  sink: BufferedLogSink;
  orchestrator: Orchestrator;
  close(): Promise<void>;
}

export function createOrchestratorServices(
  env: OrchestratorEnv,
  dataDir: string,
  o: { logger?: Logger } = {},
): OrchestratorServices {
  const logger =
    o.logger ??
    createLogger({ name: "picloud-orchestrator", level: env.PICLOUD_LOG_LEVEL, nodeId: env.PICLOUD_NODE_ID });
  const { defaults, ceilings } = budgetsFromEnv(env);
  const metrics = new Metrics();
  const manager = new ManagerClient({ url: env.PICLOUD_MANAGER_URL, token: env.PICLOUD_CLUSTER_TOKEN });
  const source = new HttpScriptSource({ client: manager });
  const changes = new SseChangeFeed({ client: manager, logger });
  const executor = new RemoteExecutor({
    address: env.PICLOUD_EXECUTOR_ADDRESS,
    onState: (state, address) =>
      state === "connected"
        ? logger.info({ executor: address }, "executor connected")
        : logger.warn({ executor: address }, "executor connection lost; reconnecting"),
  });
  const cache = new ScriptCache({
    source,
    changes,
    ttlMs: env.PICLOUD_SCRIPT_CACHE_TTL_MS,
    onChange: (scriptId, version, name) => {
      executor.evict(scriptId, version ?? undefined);
      // The saved version gets its isolate on this node's executor now, so that its first
      // request finds it warm (as in the all-in-one, see docs/executor.md "Cold starts").
      if (version !== null) void orchestrator.prepare(name);
    },
  });
  // The same buffered sink as the all-in-one's (memory buffer, spill file, retries), writing
  // to the manager: it stores each batch idempotently by id before it answers, so nothing is
  // lost while it is away and nothing is written twice when a retry follows a lost answer.
  const sink = new BufferedLogSink({
    writer: new HttpLogWriter({ client: manager }),
    spill: SpillStore.inDataDir(dataDir, { logger }),
    logger,
    retryMaxMs: 1000,
    closeTimeoutMs: Math.min(5000, env.PICLOUD_SHUTDOWN_TIMEOUT_MS),
  });
  const orchestrator = new Orchestrator({
    scripts: cache,
    verifyInvokeKey: (id, key) => source.verifyInvokeKey(id, key),
    executor,
    sink,
    concurrency: { global: env.PICLOUD_MAX_CONCURRENCY, perScript: env.PICLOUD_MAX_CONCURRENCY_PER_SCRIPT },
    defaults,
    ceilings,
    nodeId: env.PICLOUD_NODE_ID,
    logBodyBytes: env.PICLOUD_LOG_BODY_BYTES,
    logger,
    metrics,
  });
  metrics.gauge("picloud_script_cache", "Script cache.", () => ({ entries: cache.size(), stale: cache.staleServed }));
  metrics.gauge("picloud_change_feed", "Change stream from the manager.", () => {
    const s = changes.stats();
    return { connected: s.connected ? 1 : 0, connects: s.connects, notices: s.notices };
  });
  metrics.gauge("picloud_executor_connection", "Connection to the node's executor.", () => ({
    connected: executor.connected ? 1 : 0,
    lost: executor.stats().crashes,
  }));
  changes.start();
  executor.start();
  return {
    env,
    logger,
    metrics,
    manager,
    source,
    changes,
    cache,
    executor,
    sink,
    orchestrator,
    async close() {
      await changes.close().catch(() => {});
      await sink.close().catch((err: unknown) => logger.error({ err }, "sink close failed"));
      await executor.close().catch(() => {});
    },
  };
}

/** The orchestrator's app: probes, metrics and `/api/execute/*`. */
export function buildOrchestratorApp(s: OrchestratorServices, o: { draining: () => boolean }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound(notFound);
  app.use("*", requestContext(s.logger));
  const executeOrigin = new ExecuteOrigin(s.env.PICLOUD_EXECUTE_ORIGIN);
  harden(app, { executeOrigin });
  app.use("/api/execute/*", async (c, next) => {
    await next();
    c.res.headers.set(NODE_HEADER, s.env.PICLOUD_NODE_ID);
  });
  // Ready = can run scripts: the executor answers. The manager's reachability is reported
  // but not required: cached scripts keep serving and logs are kept until it returns.
  app.get("/ready", async (c) => {
    const manager = {
      // The change stream is up exactly while the manager is reachable (it heartbeats).
      reachable: s.changes.connected,
      lastRequestOk: s.manager.reachable,
      ...(s.manager.lastError ? { lastError: s.manager.lastError } : {}),
    };
    if (o.draining()) return c.json({ error: "service_unavailable", message: "shutting down", manager }, 503);
    const executor = await s.executor.ready().catch(() => false);
    if (!executor) {
      return c.json(
        { error: "service_unavailable", message: "not ready: executor", checks: { executor }, manager },
        503,
      );
    }
    return c.json({ status: "ready", checks: { executor }, manager, sink: s.sink.stats() });
  });
  app.route(
    "/",
    systemRoutes({
      info: {
        service: "picloud-orchestrator",
        version: PICLOUD_VERSION,
        mode: "cluster",
        nodeId: s.env.PICLOUD_NODE_ID,
      },
      checks: { executor: () => s.executor.ready() },
      draining: o.draining,
      metrics: s.metrics,
      // The cluster token, as on the manager (docs/security.md, "Metrics").
      metricsAuth: (c) => bearerIsOneOf(c, [s.env.PICLOUD_CLUSTER_TOKEN]),
    }),
  );
  app.route(
    "/",
    executeRoutes(
      s.orchestrator,
      async (c) => {
        const { token, session } = adminCredentials(c);
        if (!token && !session) return false;
        // Not the admin when the manager cannot say: private scripts then need their key.
        const ok = await s.source.verifyAdmin({ token, session }).catch(() => false);
        // Say which credential it was, so that the orchestrator keeps it from the script.
        return ok ? (token ? "token" : "session") : false;
      },
      { executeOrigin },
    ),
  );
  installMethodNotAllowed(app);
  return app;
}

/**
 * What a request may carry that the manager could recognise as the admin: a bearer token, or
 * the dashboard's session cookie. The orchestrator cannot check them itself (it has no
 * database): it asks the manager over the cluster protocol.
 */
function adminCredentials(c: Context): { token: string | null; session: string | null } {
  const raw = bearerToken(c.req.header("authorization"));
  // Invoke keys are never the admin token: no need to ask the manager.
  const token = raw && !isInvokeKey(raw) ? raw : null;
  // The manager decides whether it is a live session; either name may carry it here.
  const session = getCookie(c, sessionCookieName(true)) ?? getCookie(c, sessionCookieName(false)) ?? null;
  return { token, session };
}

export interface RunningOrchestrator {
  services: OrchestratorServices;
  listening: Listening;
  stop(): Promise<void>;
}

export async function startOrchestrator(
  source: Record<string, string | undefined> = process.env,
  opts: { installSignals?: boolean; logger?: Logger } = {},
): Promise<RunningOrchestrator> {
  const { env, warnings, dataDir } = loadOrchestratorEnv(source);
  const services = createOrchestratorServices(env, dataDir, opts);
  const { logger } = services;
  for (const w of warnings) logger.warn(w);
  const drain = new Drain();
  const app = buildOrchestratorApp(services, { draining: drain.draining });
  const served = await serveApp(app, drain, {
    port: env.PORT,
    host: env.HOST,
    logger,
    timeoutMs: env.PICLOUD_SHUTDOWN_TIMEOUT_MS,
    limits: serverLimitsFromEnv(env),
    cleanup: () => services.close(),
    installSignals: opts.installSignals ?? false,
  });
  logger.info(
    { url: served.listening.url, manager: env.PICLOUD_MANAGER_URL, executor: services.executor.address },
    "picloud-orchestrator is listening",
  );
  return { services, ...served };
}

export function main(): Promise<void> {
  return runMain("picloud-orchestrator", () => startOrchestrator(process.env, { installSignals: true }));
}
