import { existsSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { createExecutor, parseExecutorAddress, serveExecutor } from "@picloud/executor-core";
import {
  type AppEnv,
  createLogger,
  type Logger,
  Metrics,
  notFound,
  onError,
  PICLOUD_VERSION,
  requestContext,
  systemRoutes,
} from "@picloud/http";
import { type Listening, listen, runMain } from "@picloud/http/node";
import {
  type Executor,
  type InvocationOutcome,
  type InvocationRequest,
  type ScriptVersionRef,
  serverLimitsFromEnv,
} from "@picloud/shared";
import { Hono } from "hono";
import { type ExecutorEnv, loadExecutorEnv } from "./env.ts";

/** Counts invocations in flight, so that a drain can wait for them. */
class CountingExecutor implements Executor {
  readonly inner: Executor;
  inFlight = 0;
  served = 0;
  /** Set when the drain starts: `ready` answers false so the orchestrator's /ready fails and traffic moves away. */
  draining = false;
  #idle: (() => void)[] = [];
  constructor(inner: Executor) {
    this.inner = inner;
  }
  async invoke(req: InvocationRequest): Promise<InvocationOutcome> {
    this.inFlight++;
    try {
      return await this.inner.invoke(req);
    } finally {
      this.inFlight--;
      this.served++;
      if (this.inFlight === 0) for (const r of this.#idle.splice(0)) r();
    }
  }
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((r) => this.#idle.push(r));
  }
  evict(scriptId: string, keepVersion?: number): void {
    this.inner.evict(scriptId, keepVersion);
  }
  prepare(script: ScriptVersionRef, memoryMb: number): Promise<void> {
    return this.inner.prepare(script, memoryMb);
  }
  async ready(): Promise<boolean> {
    return !this.draining && (await this.inner.ready());
  }
  stats() {
    return this.inner.stats();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface RunningExecutor {
  env: ExecutorEnv;
  logger: Logger;
  executor: Executor & { inFlight: number };
  rpc: Server;
  /** Where the RPC listens (`host:port` or the socket path). */
  rpcAddress: string;
  http: Listening;
  stop(): Promise<void>;
}

/**
 * `picloud-executor`: a ProcessExecutor (an isolate's OOM kills the supervised sandbox
 * process, not this RPC server) or an InProcessExecutor, served with `serveExecutor` on
 * every connection accepted on a TCP port or a unix socket, plus a small HTTP server for
 * probes and metrics. SIGTERM: stop accepting, finish the invocations in flight, close.
 */
export async function startExecutor(
  source: Record<string, string | undefined> = process.env,
  opts: { installSignals?: boolean; logger?: Logger } = {},
): Promise<RunningExecutor> {
  const { env, warnings } = loadExecutorEnv(source);
  const logger =
    opts.logger ??
    createLogger({ name: "picloud-executor", level: env.PICLOUD_LOG_LEVEL, nodeId: env.PICLOUD_NODE_ID });
  for (const w of warnings) logger.warn(w);
  const executor = new CountingExecutor(
    createExecutor({
      mode: env.PICLOUD_EXECUTOR_MODE,
      fetchAllowHosts: env.PICLOUD_FETCH_ALLOW_HOSTS,
      maxRssMb: env.PICLOUD_EXECUTOR_MEMORY_MB,
      syncFastPath: env.PICLOUD_EXECUTOR_SYNC_FAST_PATH,
      childHeapMb: env.PICLOUD_EXECUTOR_CHILD_HEAP_MB,
    }),
  );
  const metrics = new Metrics();
  const connections = new Set<Socket>();
  metrics.gauge("picloud_isolates", "Executor isolates.", () => {
    const s = executor.stats();
    return { warm: s.isolatesWarm, busy: s.isolatesBusy, scripts: s.scriptsLoaded, crashes: s.crashes };
  });
  metrics.gauge("picloud_executor_rpc", "RPC connections and invocations.", () => ({
    connections: connections.size,
    inflight: executor.inFlight,
    served: executor.served,
  }));

  const address = parseExecutorAddress(env.PICLOUD_EXECUTOR_LISTEN);
  const rpc = createServer((socket) => {
    connections.add(socket);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 5000);
    socket.on("close", () => connections.delete(socket));
    serveExecutor(socket, executor);
    logger.info({ peer: socket.remoteAddress ?? "unix" }, "orchestrator connected");
  });
  if ("path" in address && existsSync(address.path)) unlinkSync(address.path); // a stale socket file
  await new Promise<void>((resolve, reject) => {
    rpc.once("error", reject);
    if ("path" in address) rpc.listen(address.path, resolve);
    else rpc.listen(address.port, address.host, resolve);
  });
  const a = rpc.address();
  const rpcAddress = typeof a === "string" ? a : a ? `${a.address}:${a.port}` : env.PICLOUD_EXECUTOR_LISTEN;

  let draining = false;
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound(notFound);
  app.use("*", requestContext(logger));
  app.route(
    "/",
    systemRoutes({
      info: { service: "picloud-executor", version: PICLOUD_VERSION, mode: "cluster", nodeId: env.PICLOUD_NODE_ID },
      checks: { executor: () => executor.inner.ready() },
      draining: () => draining,
      metrics,
    }),
  );
  const http = await listen(app, { port: env.PORT, host: env.HOST, limits: serverLimitsFromEnv(env) });
  logger.info({ rpc: rpcAddress, http: http.url, mode: env.PICLOUD_EXECUTOR_MODE }, "picloud-executor is listening");

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      draining = true;
      executor.draining = true;
      logger.info({ inflight: executor.inFlight }, "shutting down: finishing invocations in flight");
      rpc.close();
      const deadline = new Promise<void>((r) => setTimeout(r, env.PICLOUD_SHUTDOWN_TIMEOUT_MS).unref());
      await Promise.race([executor.idle(), deadline]);
      // The last replies are written once their promises settle: let that happen first.
      await new Promise((r) => setImmediate(r));
      for (const s of connections) s.end();
      await new Promise<void>((r) => {
        http.server.close(() => r());
        http.server.closeIdleConnections();
      });
      await executor.close().catch((err: unknown) => logger.error({ err }, "executor close failed"));
      for (const s of connections) s.destroy();
      logger.info("stopped");
    })();
    return stopping;
  };
  if (opts.installSignals) {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (++signals > 1) process.exit(1);
      logger.info({ signal }, "signal received");
      void stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }

  return { env, logger, executor, rpc, rpcAddress, http, stop };
}

export function main(): Promise<void> {
  return runMain("picloud-executor", () => startExecutor(process.env, { installSignals: true }));
}
