import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
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

/** Starts a Node HTTP server for the app and resolves once it listens. */
export function listen(app: FetchApp, opts: { port: number; host: string }): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch as (req: Request) => Response | Promise<Response>, port: opts.port, hostname: opts.host },
      (info: AddressInfo) => {
        const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
        resolve({ server: server as Server, port: info.port, url: `http://${host}:${info.port}` });
      },
    ) as Server;
    // Slow-loris guard and a bound on header size; bodies are capped per route.
    server.headersTimeout = 30_000;
    server.requestTimeout = 5 * 60_000;
    server.keepAliveTimeout = 5_000;
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
