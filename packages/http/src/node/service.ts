import type { Server } from "node:http";
import { type EnvSource, Resources, type ServerLimits, type ServiceEnv, serverLimitsFromEnv } from "@picloud/shared";

export type { EnvSource };

import { createLogger, type Logger } from "../logger.ts";
import { Metrics } from "../metrics.ts";
import { Drain } from "./drain.ts";
import { type FetchApp, type Listening, listen } from "./listen.ts";
import { runMain } from "./main.ts";

/** Something a service listens on, and how it drains. */
export interface Endpoint {
  name: string;
  /** Stops taking new work; resolves once the work in flight is done. */
  drain(): Promise<void>;
  /** Ends what is still open when the drain deadline passes. */
  kill(): void;
}

/** What `start` gets: where to register what it opens, the drain state, and how to listen. */
export interface ServiceContext {
  logger: Logger;
  /** The service's Prometheus registry (served at /metrics). */
  metrics: Metrics;
  /** Everything opened, closed newest first by a failed start and at the end of a drain. */
  resources: Resources;
  /** `/ready` and every long-lived stream read it. */
  drain: Drain;
  /** Listens with an HTTP app; drained by finishing in-flight requests. */
  serve(name: string, app: FetchApp, o: { port: number; host: string; limits?: ServerLimits }): Promise<Listening>;
  /** Adds another endpoint (e.g. an RPC server), already listening, to drain and close. */
  endpoint(endpoint: Endpoint, close: () => Promise<void> | void): void;
}

export interface ServiceOptions<S> {
  /** The binary's name, for logs. */
  name: string;
  logger: Logger;
  /** The drain deadline (`PICLOUD_SHUTDOWN_TIMEOUT_MS`): then remaining connections are cut. */
  timeoutMs: number;
  /** Wire SIGTERM/SIGINT to a drain that exits the process (binaries; not tests). */
  installSignals?: boolean;
  /**
   * Opens the service and listens. Each thing opened is registered on `ctx.resources`
   * (or through `ctx.serve`/`ctx.endpoint`): when `start` throws, everything registered so
   * far is closed before the error goes on.
   */
  start(ctx: ServiceContext): Promise<S>;
}

export interface RunningService<S> {
  services: S;
  drain: Drain;
  /** Graceful stop, as on SIGTERM, without exiting the process. Resolves to the exit code. */
  stop(): Promise<number>;
}

/**
 * The one life cycle of every PiCloud binary: start (closing whatever was opened if a step
 * fails), run, and drain on SIGTERM/SIGINT or `stop()`: `/ready` turns 503 and long-lived
 * streams end (`Drain`), endpoints stop taking work and finish what is in flight (cut at
 * the deadline), then every resource is closed, newest first. A second signal exits at once.
 */
export async function startService<S>(o: ServiceOptions<S>): Promise<RunningService<S>> {
  const drain = new Drain();
  const resources = new Resources(o.logger);
  const endpoints: Endpoint[] = [];
  const ctx: ServiceContext = {
    logger: o.logger,
    metrics: new Metrics(),
    resources,
    drain,
    async serve(name, app, opts) {
      const listening = await listen(app, opts);
      ctx.endpoint(httpEndpoint(name, listening.server), () => closeServer(listening.server));
      return listening;
    },
    endpoint(endpoint, close) {
      endpoints.push(endpoint);
      resources.add(endpoint.name, endpoint, close);
    },
  };
  let services: S;
  try {
    services = await o.start(ctx);
  } catch (err) {
    const opened = resources.names;
    await resources.closeAll();
    o.logger.error({ err, closed: opened }, `${o.name} failed to start; closed what it had opened`);
    throw err;
  }

  let stopping: Promise<number> | null = null;
  const stop = (signal: string): Promise<number> => {
    stopping ??= shutdown(o, drain, endpoints, resources, signal);
    return stopping;
  };
  if (o.installSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        o.logger.warn({ signal }, "second signal: exiting now");
        process.exit(1);
      }
      void stop(signal).then((code) => process.exit(code));
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }
  return { services, drain, stop: () => stop("stop") };
}

async function shutdown<S>(
  o: ServiceOptions<S>,
  drain: Drain,
  endpoints: Endpoint[],
  resources: Resources,
  signal: string,
): Promise<number> {
  o.logger.info({ signal }, "shutting down: draining in-flight requests");
  drain.start();
  let deadline: NodeJS.Timeout | undefined;
  const cut = new Promise<void>((resolve) => {
    deadline = setTimeout(() => {
      o.logger.warn("drain deadline reached: closing remaining connections");
      for (const e of endpoints) e.kill();
      resolve();
    }, o.timeoutMs);
    deadline.unref();
  });
  // Past the deadline what is left was cut: go on to close even if some work never settles.
  await Promise.race([Promise.all(endpoints.map((e) => e.drain().catch(() => {}))), cut]);
  clearTimeout(deadline);
  const failed = await resources.closeAll();
  const code = failed.length ? 1 : 0;
  o.logger.info({ code }, "stopped");
  o.logger.flush?.();
  return code;
}

/** An HTTP server as an endpoint: stop accepting, let in-flight requests finish, cut the rest at the deadline. */
export function httpEndpoint(name: string, server: Server): Endpoint {
  return {
    name,
    drain: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
    kill: () => server.closeAllConnections(),
  };
}

/** Closes a server at once (its connections too); a server that is not listening is fine. */
function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** How a binary is started: by its bin (signals wired to a drain that exits), or by a test. */
export interface StartOptions {
  installSignals?: boolean;
  /** A logger to use instead of the binary's own. */
  logger?: Logger;
}

export interface HttpServiceOptions<S> extends StartOptions {
  /** The binary's name: its logger's name and the prefix of its log lines. */
  name: string;
  /** The parsed env (`serviceEnvShape`: port, host, log level, node id, drain deadline, limits). */
  env: ServiceEnv;
  /** Unknown `PICLOUD_*` variables from `parseEnv`, logged as warnings. */
  warnings: string[];
  /** Opens the services, registering what it opens on `ctx.resources` (and other endpoints on `ctx.endpoint`). */
  open(ctx: ServiceContext): Promise<S> | S;
  /** The HTTP app on `PORT`, built from the services. */
  app(services: S, drain: Drain): FetchApp;
}

export interface RunningHttpService<S> {
  services: S;
  logger: Logger;
  listening: Listening;
  /** Graceful stop, as on SIGTERM, without exiting the process. */
  stop(): Promise<void>;
}

/**
 * A binary with an HTTP app, on `startService`: its logger from the env, the env's
 * warnings logged, the services opened, the app served on `HOST:PORT` with the env's
 * connection limits. Every PiCloud binary starts through here.
 */
export async function startHttpService<S>(o: HttpServiceOptions<S>): Promise<RunningHttpService<S>> {
  const { env } = o;
  const logger = o.logger ?? createLogger({ name: o.name, level: env.PICLOUD_LOG_LEVEL, nodeId: env.PICLOUD_NODE_ID });
  for (const w of o.warnings) logger.warn(w);
  const running = await startService({
    name: o.name,
    logger,
    timeoutMs: env.PICLOUD_SHUTDOWN_TIMEOUT_MS,
    installSignals: o.installSignals ?? false,
    async start(ctx) {
      const services = await o.open(ctx);
      const limits = serverLimitsFromEnv(env);
      const listening = await ctx.serve("http", o.app(services, ctx.drain), { port: env.PORT, host: env.HOST, limits });
      return { services, listening };
    },
  });
  const { services, listening } = running.services;
  return { services, logger, listening, stop: async () => void (await running.stop()) };
}

/** A binary as `httpBinary` builds it: its start function (tests, benchmarks) and its bin entry. */
export interface HttpBinary<S> {
  start(source?: EnvSource, opts?: StartOptions): Promise<RunningHttpService<S>>;
  /** The bin's entry: SIGTERM/SIGINT drain and exit; a configuration error exits 78 (`runMain`). */
  main(): Promise<void>;
}

/**
 * Defines a binary once: how it reads its env (`parseEnv` and friends), opens its services,
 * builds its app, and announces itself. Every PiCloud binary is one of these.
 */
export function httpBinary<L extends { env: ServiceEnv; warnings: string[] }, S>(
  name: string,
  /** Reads the env (`parseEnv`): a bad variable throws `EnvError`. */
  load: (source: EnvSource) => L,
  spec: {
    open(loaded: NoInfer<L>, ctx: ServiceContext): Promise<S> | S;
    app(services: NoInfer<S>, drain: Drain, loaded: NoInfer<L>): FetchApp;
    /** Logs where it listens (and anything to print once, such as a new admin token). */
    listening(running: RunningHttpService<NoInfer<S>>, loaded: NoInfer<L>): void;
  },
): HttpBinary<S> {
  const start = async (source: EnvSource = process.env, opts: StartOptions = {}) => {
    const loaded = load(source);
    const running = await startHttpService({
      name,
      env: loaded.env,
      warnings: loaded.warnings,
      installSignals: opts.installSignals ?? false,
      ...(opts.logger ? { logger: opts.logger } : {}),
      open: (ctx) => spec.open(loaded, ctx),
      app: (services, drain) => spec.app(services, drain, loaded),
    });
    spec.listening(running, loaded);
    return running;
  };
  return { start, main: () => runMain(name, () => start(process.env, { installSignals: true })) };
}
