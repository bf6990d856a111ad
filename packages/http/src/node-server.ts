import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { EnvError, type ServerLimits } from "@picloud/shared";
import type { Logger } from "./logger.ts";

/** Anything with a web-standard fetch handler (a Hono app). */
export interface FetchApp {
  fetch: (req: Request, ...rest: never[]) => Response | Promise<Response>;
}

export interface Listening {
  server: Server;
  port: number;
  url: string;
}

/** Default cap on open connections: 4096, or less where the process may open fewer files. */
export function defaultMaxConnections(): number {
  const fds = openFileLimit();
  // Room for the database pool, the executor, log files and the like.
  return fds === null ? 4096 : Math.max(64, Math.min(4096, fds - 256));
}

/** The soft limit on open files of this process (Linux), or null when unknown. */
export function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m?.[1] ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The limits used when none are given (the env defaults of `serverLimitsEnvShape`). */
export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
};

/**
 * Starts a Node HTTP server for the app and resolves once it listens. The server caps open
 * connections (more are closed at accept, before any byte is read) and drops clients that
 * are slow to send their headers or their whole request (408, then closed), so that a few
 * thousand slow clients cannot starve the others (docs/security.md, "Limits"). Bodies
 * are capped per route.
 */
export function listen(
  app: FetchApp,
  opts: { port: number; host: string; limits?: ServerLimits | undefined },
): Promise<Listening> {
  const limits = opts.limits ?? DEFAULT_SERVER_LIMITS;
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: app.fetch as (req: Request) => Response | Promise<Response>,
        port: opts.port,
        hostname: opts.host,
        serverOptions: {
          headersTimeout,
          requestTimeout: limits.requestTimeoutMs,
          keepAliveTimeout: limits.keepAliveTimeoutMs,
          // How often Node looks for requests past their timeouts (its default is 30 s).
          connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
        },
      },
      (info: AddressInfo) => {
        const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
        resolve({ server: server as Server, port: info.port, url: `http://${host}:${info.port}` });
      },
    ) as Server;
    server.maxConnections = limits.maxConnections ?? defaultMaxConnections();
    server.keepAliveTimeout = limits.keepAliveTimeoutMs;
    server.once("error", reject);
  });
}

export interface ShutdownOptions {
  servers: Server[];
  logger: Logger;
  /** Called first: /ready starts answering 503. */
  onDrainStart: () => void;
  /** Called after the servers stopped and in-flight requests finished (flush, close DB). */
  cleanup: () => Promise<void>;
  timeoutMs: number;
  /** For tests: called instead of process.exit. */
  exit?: (code: number) => void;
}

/** Stops accepting, drains in-flight requests, runs cleanup, and exits. Resolves on exit. */
export async function drainAndExit(opts: ShutdownOptions, signal: string): Promise<void> {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  opts.logger.info({ signal }, "shutting down: draining in-flight requests");
  opts.onDrainStart();
  const deadline = setTimeout(() => {
    opts.logger.warn("drain deadline reached: closing remaining connections");
    for (const s of opts.servers) s.closeAllConnections();
  }, opts.timeoutMs);
  deadline.unref();
  await Promise.all(
    opts.servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeIdleConnections();
        }),
    ),
  );
  clearTimeout(deadline);
  let code = 0;
  try {
    await opts.cleanup();
  } catch (err) {
    code = 1;
    opts.logger.error({ err }, "cleanup failed during shutdown");
  }
  opts.logger.info({ code }, "stopped");
  opts.logger.flush?.();
  exit(code);
}

/** SIGTERM/SIGINT start a graceful drain; a second signal exits at once. */
export function installGracefulShutdown(opts: ShutdownOptions): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      opts.logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    void drainAndExit(opts, signal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

/**
 * The drain state an app reads while it runs: `/ready` answers 503 once `draining()`, and
 * long-lived streams (SSE) end when `signal` aborts.
 */
export class Drain {
  #draining = false;
  readonly #abort = new AbortController();
  readonly draining = (): boolean => this.#draining;
  get signal(): AbortSignal {
    return this.#abort.signal;
  }
  start(): void {
    this.#draining = true;
    this.#abort.abort();
  }
}

export interface ServeOptions {
  port: number;
  host: string;
  logger: Logger;
  /** The drain deadline. */
  timeoutMs: number;
  /** Runs after the server stopped and in-flight requests finished (flush, close). */
  cleanup: () => Promise<void>;
  /** Extra work when the drain starts (besides the Drain's own flag and signal). */
  onDrainStart?: () => void;
  /** Wire SIGTERM/SIGINT to a drain that exits the process (binaries; not tests). */
  installSignals?: boolean;
  /** Connection limits (`serverLimitsFromEnv`); default DEFAULT_SERVER_LIMITS. */
  limits?: ServerLimits;
}

export interface Served {
  listening: Listening;
  /** Graceful stop, as on SIGTERM, without exiting the process. */
  stop(): Promise<void>;
}

/** Listens, and stops gracefully on SIGTERM/SIGINT or `stop()`: the shared life of every binary. */
export async function serveApp(app: FetchApp, drain: Drain, o: ServeOptions): Promise<Served> {
  const listening = await listen(app, { port: o.port, host: o.host, limits: o.limits });
  const shutdown: ShutdownOptions = {
    servers: [listening.server],
    logger: o.logger,
    onDrainStart: () => {
      drain.start();
      o.onDrainStart?.();
    },
    cleanup: o.cleanup,
    timeoutMs: o.timeoutMs,
  };
  if (o.installSignals) installGracefulShutdown(shutdown);
  return { listening, stop: () => drainAndExit({ ...shutdown, exit: () => {} }, "stop") };
}

/** Prints a newly generated admin token once, to the terminal only (never to the structured log). */
export function announceAdminToken(token: string | null): void {
  if (token) process.stderr.write(`\n  PiCloud admin token (shown once, store it now):\n\n    ${token}\n\n`);
}

/**
 * A binary's entry: a configuration error ends it with one line per bad variable and exit
 * code 78 (EX_CONFIG); any other start-up failure with its stack and exit code 1.
 */
export async function runMain(name: string, start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(78);
    }
    process.stderr.write(`${name}: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`);
    process.exit(1);
  }
}
