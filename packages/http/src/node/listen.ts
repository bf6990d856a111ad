import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { ServerLimits } from "@picloud/shared";

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
