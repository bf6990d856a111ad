import { existsSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { createExecutor, parseExecutorAddress, serveExecutor } from "@picloud/executor-core";
import { type Logger, type Metrics, serviceApp } from "@picloud/http";
import { type Endpoint, httpBinary, type RunningHttpService, type ServiceContext } from "@picloud/http/node";
import type { Executor, InvocationOutcome, InvocationRequest, ScriptVersionRef } from "@picloud/shared";
import { type ExecutorEnv, loadExecutorEnv } from "./env.ts";

/** Counts invocations in flight, so that a drain can wait for them. */
class CountingExecutor implements Executor {
  readonly inner: Executor;
  inFlight = 0;
  served = 0;
  /** Set when the drain starts: `ready` answers false so the orchestrator's /ready fails and traffic moves away. */
  #draining = false;
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
  drain(): void {
    this.#draining = true;
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
    return !this.#draining && (await this.inner.ready());
  }
  stats() {
    return this.inner.stats();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface ExecutorServices {
  env: ExecutorEnv;
  logger: Logger;
  metrics: Metrics;
  executor: CountingExecutor;
  rpc: Server;
  /** Where the RPC listens (`host:port` or the socket path). */
  rpcAddress: string;
}

export type RunningExecutor = RunningHttpService<ExecutorServices>;

/**
 * The RPC server as an endpoint: stop accepting, let the invocations in flight finish (their
 * replies are written once their promises settle), then end the connections; at the drain
 * deadline they are cut.
 */
function rpcEndpoint(rpc: Server, executor: CountingExecutor, connections: Set<Socket>): Endpoint {
  return {
    name: "rpc",
    async drain() {
      rpc.close();
      await executor.idle();
      await new Promise((r) => setImmediate(r));
      const closed = [...connections].map((s) => new Promise((r) => s.once("close", r)));
      for (const s of connections) s.end();
      await Promise.all(closed);
    },
    kill() {
      for (const s of connections) s.destroy();
    },
  };
}

/** Listens for RPC connections on TCP or a unix socket; resolves to the address. */
async function listenRpc(rpc: Server, listen: string): Promise<string> {
  const address = parseExecutorAddress(listen);
  if ("path" in address && existsSync(address.path)) unlinkSync(address.path); // a stale socket file
  await new Promise<void>((resolve, reject) => {
    rpc.once("error", reject);
    if ("path" in address) rpc.listen(address.path, resolve);
    else rpc.listen(address.port, address.host, resolve);
  });
  const a = rpc.address();
  return typeof a === "string" ? a : a ? `${a.address}:${a.port}` : listen;
}

/**
 * `picloud-executor`: a ProcessExecutor (an isolate's OOM kills the supervised sandbox
 * process, not this RPC server) or an InProcessExecutor, served with `serveExecutor` on
 * every connection accepted on a TCP port or a unix socket, plus a small HTTP server for
 * probes and metrics. SIGTERM: stop accepting, finish the invocations in flight, close.
 */
const executorBinary = httpBinary("picloud-executor", loadExecutorEnv, {
  open: openExecutor,
  app: (s, drain, { env }) =>
    serviceApp({
      logger: s.logger,
      system: {
        info: { service: "picloud-executor", mode: "cluster", nodeId: env.PICLOUD_NODE_ID },
        checks: { executor: () => s.executor.inner.ready() },
        draining: drain.draining,
        metrics: s.metrics,
      },
    }),
  listening: ({ services, listening, logger }, { env }) =>
    logger.info(
      { rpc: services.rpcAddress, http: listening.url, mode: env.PICLOUD_EXECUTOR_MODE },
      "picloud-executor is listening",
    ),
});

export const startExecutor = executorBinary.start;
export const main = executorBinary.main;

/** The sandbox and its RPC server, each registered on `ctx` (the RPC as an endpoint to drain). */
async function openExecutor({ env }: { env: ExecutorEnv }, ctx: ServiceContext): Promise<ExecutorServices> {
  const { logger, metrics } = ctx;
  const executor = ctx.resources.add(
    "executor",
    new CountingExecutor(
      createExecutor({
        mode: env.PICLOUD_EXECUTOR_MODE,
        fetchAllowHosts: env.PICLOUD_FETCH_ALLOW_HOSTS,
        maxRssMb: env.PICLOUD_EXECUTOR_MEMORY_MB,
        syncFastPath: env.PICLOUD_EXECUTOR_SYNC_FAST_PATH,
        childHeapMb: env.PICLOUD_EXECUTOR_CHILD_HEAP_MB,
      }),
    ),
    (e) => e.close(),
  );
  // The orchestrator's /ready fails once this one drains, so traffic moves away.
  ctx.drain.signal.addEventListener("abort", () => executor.drain(), { once: true });
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
  const rpc = createServer((socket) => {
    connections.add(socket);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 5000);
    socket.on("close", () => connections.delete(socket));
    serveExecutor(socket, executor);
    logger.info({ peer: socket.remoteAddress ?? "unix" }, "orchestrator connected");
  });
  const rpcAddress = await listenRpc(rpc, env.PICLOUD_EXECUTOR_LISTEN);
  ctx.endpoint(rpcEndpoint(rpc, executor, connections), () => {
    for (const s of connections) s.destroy();
    return new Promise<void>((r) => rpc.close(() => r()));
  });
  return { env, logger, metrics, executor, rpc, rpcAddress };
}
