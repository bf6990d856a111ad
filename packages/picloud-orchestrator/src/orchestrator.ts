import { RemoteExecutor } from "@picloud/executor-core";
import { bearerIsOneOf, ExecuteOrigin, type Logger, type Metrics, serviceApp } from "@picloud/http";
import { httpBinary, type RunningHttpService, type ServiceContext } from "@picloud/http/node";
import { BufferedLogSink, SpillStore } from "@picloud/log-pipeline";
import {
  createOrchestrator,
  executeRoutes,
  HttpLogWriter,
  HttpScriptSource,
  ManagerClient,
  type Orchestrator,
  type ScriptCache,
  SseChangeFeed,
} from "@picloud/orchestrator-core";
import { bearerToken, isInvokeKey, sessionCookieName } from "@picloud/shared";
import type { Context } from "hono";
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
}

export type RunningOrchestrator = RunningHttpService<OrchestratorServices>;

/**
 * Opens the orchestrator's services, registering each part on `ctx.resources`: a drain (or
 * a start that fails) closes them newest first: the sink (flushed to the manager or
 * spilled), the change stream, the executor connection.
 */
export function createOrchestratorServices(
  { env, dataDir }: { env: OrchestratorEnv; dataDir: string },
  ctx: Pick<ServiceContext, "logger" | "metrics" | "resources">,
): OrchestratorServices {
  const { logger, metrics, resources } = ctx;
  const manager = new ManagerClient({ url: env.PICLOUD_MANAGER_URL, token: env.PICLOUD_CLUSTER_TOKEN });
  const source = new HttpScriptSource({ client: manager });
  const executor = resources.add(
    "executor connection",
    new RemoteExecutor({
      address: env.PICLOUD_EXECUTOR_ADDRESS,
      onState: (state, address) =>
        state === "connected"
          ? logger.info({ executor: address }, "executor connected")
          : logger.warn({ executor: address }, "executor connection lost; reconnecting"),
    }),
    (e) => e.close(),
  );
  const changes = resources.add("change stream", new SseChangeFeed({ client: manager, logger }), (c) => c.close());
  // The same buffered sink as the all-in-one's (memory buffer, spill file, retries), writing
  // to the manager: it stores each batch idempotently by id before it answers, so nothing is
  // lost while it is away and nothing is written twice when a retry follows a lost answer.
  const sink = resources.add(
    "sink",
    new BufferedLogSink({
      writer: new HttpLogWriter({ client: manager }),
      spill: SpillStore.inDataDir(dataDir, { logger }),
      logger,
      retryMaxMs: 1000,
      closeTimeoutMs: Math.min(5000, env.PICLOUD_SHUTDOWN_TIMEOUT_MS),
    }),
    (k) => k.close(),
  );
  const { orchestrator, cache } = createOrchestrator({
    source,
    changes,
    executor,
    sink,
    env,
    cacheTtlMs: env.PICLOUD_SCRIPT_CACHE_TTL_MS,
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
  };
}

/** The orchestrator's app: probes, metrics and `/api/execute/*`. */
export function buildOrchestratorApp(s: OrchestratorServices, drain: { draining: () => boolean }) {
  const executeOrigin = new ExecuteOrigin(s.env.PICLOUD_EXECUTE_ORIGIN);
  return serviceApp({
    logger: s.logger,
    harden: { executeOrigin },
    routes: (app) => {
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
        if (drain.draining()) return c.json({ error: "service_unavailable", message: "shutting down", manager }, 503);
        const executor = await s.executor.ready().catch(() => false);
        if (!executor) {
          return c.json(
            { error: "service_unavailable", message: "not ready: executor", checks: { executor }, manager },
            503,
          );
        }
        return c.json({ status: "ready", checks: { executor }, manager, sink: s.sink.stats() });
      });
      const isAdmin = async (c: Context) => {
        const { token, session } = adminCredentials(c);
        if (!token && !session) return false;
        // Not the admin when the manager cannot say: private scripts then need their key.
        const ok = await s.source.verifyAdmin({ token, session }).catch(() => false);
        // Say which credential it was, so that the orchestrator keeps it from the script.
        return ok ? (token ? "token" : "session") : false;
      };
      app.route("/", executeRoutes(s.orchestrator, isAdmin, { executeOrigin }));
    },
    system: {
      info: { service: "picloud-orchestrator", mode: "cluster", nodeId: s.env.PICLOUD_NODE_ID },
      checks: { executor: () => s.executor.ready() },
      draining: drain.draining,
      metrics: s.metrics,
      // The cluster token, as on the manager (docs/security.md, "Metrics").
      metricsAuth: (c) => bearerIsOneOf(c, [s.env.PICLOUD_CLUSTER_TOKEN]),
    },
  });
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

const orchestrator = httpBinary("picloud-orchestrator", loadOrchestratorEnv, {
  open: createOrchestratorServices,
  app: buildOrchestratorApp,
  listening: ({ services, listening, logger }, { env }) =>
    logger.info(
      { url: listening.url, manager: env.PICLOUD_MANAGER_URL, executor: services.executor.address },
      "picloud-orchestrator is listening",
    ),
});

export const startOrchestrator = orchestrator.start;
export const main = orchestrator.main;
