import { createHash, timingSafeEqual } from "node:crypto";
import type { AppEnv } from "@picloud/http";
import {
  type ChangeFeed,
  type ChangeNotice,
  type ExecutionLog,
  type MinimalLogger,
  PiCloudError,
  safeLog,
} from "@picloud/shared";
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";
import type { AdminAuth } from "../auth/admin-auth.ts";
import { sqlState } from "../db/errors.ts";
import type { ExecutionFeed } from "../events/execution-feed.ts";
import type { ExecutionLogInserter } from "../sink/postgres-log-writer.ts";

/**
 * Where the orchestrators reach the manager. Not part of the public API: Caddy never routes
 * it (the cluster Caddyfile sends only `/api/*` and the system paths to the manager).
 */
export const CLUSTER_PREFIX = "/internal/cluster";

export interface ClusterRoutesDeps {
  /** The shared secret of the cluster (`PICLOUD_CLUSTER_TOKEN`). */
  token: string;
  scripts: { resolve(idOrName: string): Promise<import("@picloud/shared").ResolvedScript | null> };
  keys: { verify(scriptId: string, key: string): Promise<boolean> };
  auth: Pick<AdminAuth, "verifyToken" | "verifySession">;
  /** Stores a batch idempotently (by id): `ExecutionLogsRepository.insertBatch`. */
  logs: ExecutionLogInserter;
  /** Told about stored logs, for the dashboard's live stream. */
  feed?: ExecutionFeed;
  /** Script change notices (PgChangeFeed), streamed to orchestrators. */
  changes: ChangeFeed & { onResync?(listener: () => void): () => void };
  /** SSE comment line sent when idle, so that dead peers are noticed (default 10 s). */
  heartbeatMs?: number;
  /** Rows accepted per batch (default 5000). */
  maxBatchRows?: number;
  /** Body bytes accepted per batch (default 64 MiB). */
  maxBatchBytes?: number;
  /** Aborted when the manager shuts down: open change streams end so the drain is not held up. */
  shutdown?: AbortSignal;
  logger?: MinimalLogger;
  /** Counters for metrics. */
  onBatch?: (rows: number, inserted: number) => void;
}

/** Counts of open change streams, for metrics and tests. */
export interface ClusterRoutesState {
  streams: number;
}

/**
 * The manager's internal routes for orchestrators (issue 6), authenticated with
 * `Authorization: Bearer <cluster token>` (compared in constant time):
 *
 * - `GET  /internal/cluster/scripts/{idOrName}` — the current version, ready to run (env
 *   decrypted: internal only), 404 when there is none;
 * - `POST /internal/cluster/invoke-keys/verify` `{scriptId, key}` → `{valid}`;
 * - `POST /internal/cluster/admin/verify` `{token?, session?}` → `{valid}` (the admin may call
 *   private scripts and mark test runs through an orchestrator);
 * - `POST /internal/cluster/execution-logs` `{logs: ExecutionLog[]}` → `{received, inserted}`,
 *   answered 2xx only once the rows are stored (idempotent by id, so a retry after a lost
 *   answer never duplicates); a batch the database refuses as data answers 400 with
 *   `details.sqlState`, so that the orchestrator's sink isolates and drops the bad row;
 * - `GET  /internal/cluster/changes` — an SSE stream: `ready` once subscribed, `change` per
 *   notice, `resync` when notices may have been missed, comment heartbeats when idle.
 */
export function clusterRoutes(d: ClusterRoutesDeps): Hono<AppEnv> & { state: ClusterRoutesState } {
  const app = new Hono<AppEnv>() as Hono<AppEnv> & { state: ClusterRoutesState };
  const state: ClusterRoutesState = { streams: 0 };
  app.state = state;
  if (d.token.length < 32) throw new Error("the cluster token must be at least 32 characters");
  app.use(`${CLUSTER_PREFIX}/*`, requireClusterToken(d.token));

  app.get(`${CLUSTER_PREFIX}/scripts/:idOrName`, async (c) => {
    const idOrName = c.req.param("idOrName");
    const script = await d.scripts.resolve(idOrName);
    if (!script) throw new PiCloudError("not_found", `no script ${JSON.stringify(idOrName)}`);
    c.header("cache-control", "no-store");
    return c.json(script);
  });

  app.post(`${CLUSTER_PREFIX}/invoke-keys/verify`, async (c) => {
    const body = await jsonBody(c.req.raw);
    const scriptId = body["scriptId"];
    const key = body["key"];
    if (typeof scriptId !== "string" || typeof key !== "string") {
      throw new PiCloudError("bad_request", "send {scriptId, key} as strings");
    }
    return c.json({ valid: await d.keys.verify(scriptId, key) });
  });

  app.post(`${CLUSTER_PREFIX}/admin/verify`, async (c) => {
    const body = await jsonBody(c.req.raw);
    const token = body["token"];
    const session = body["session"];
    let valid = false;
    if (typeof token === "string" && token) valid = d.auth.verifyToken(token);
    if (!valid && typeof session === "string" && session) valid = await d.auth.verifySession(session);
    return c.json({ valid });
  });

  const maxRows = d.maxBatchRows ?? 5000;
  app.post(
    `${CLUSTER_PREFIX}/execution-logs`,
    bodyLimit({
      maxSize: d.maxBatchBytes ?? 64 * 1024 * 1024,
      onError: () => {
        throw new PiCloudError("payload_too_large", "execution-log batch too large: send smaller batches");
      },
    }),
    async (c) => {
      const body = await jsonBody(c.req.raw);
      const logs = body["logs"];
      if (!Array.isArray(logs)) throw new PiCloudError("bad_request", "send {logs: [...]}");
      if (logs.length > maxRows) {
        throw new PiCloudError("payload_too_large", `at most ${maxRows} rows per batch`);
      }
      const bad = logs.findIndex((l) => !isLogLike(l));
      if (bad >= 0) {
        // As a data error, so that the sender isolates the row instead of retrying forever.
        throw new PiCloudError("bad_request", `row ${bad} is not an execution log`, {
          details: { sqlState: "22023", row: bad },
        });
      }
      let inserted: number;
      try {
        inserted = await d.logs.insertBatch(logs as ExecutionLog[]);
      } catch (err) {
        const code = sqlState(err);
        if (code && (code.startsWith("22") || code.startsWith("23"))) {
          throw new PiCloudError("bad_request", "the database refused a row of this batch", {
            details: { sqlState: code },
          });
        }
        safeLog(d.logger, "warn", { err: errText(err), rows: logs.length }, "cluster: storing a log batch failed");
        throw new PiCloudError("service_unavailable", "the execution logs could not be stored; retry", {
          headers: { "Retry-After": "1" },
        });
      }
      d.onBatch?.(logs.length, inserted);
      // A fully duplicate batch (a retry whose first answer was lost) was published already.
      if (d.feed && inserted > 0) for (const l of logs as ExecutionLog[]) d.feed.publish(l);
      return c.json({ received: logs.length, inserted });
    },
  );

  app.get(`${CLUSTER_PREFIX}/changes`, (c) => {
    c.header("x-accel-buffering", "no");
    c.header("cache-control", "no-store");
    return streamSSE(c, async (stream) => {
      state.streams++;
      const queue: ({ kind: "change"; notice: ChangeNotice } | { kind: "resync" })[] = [];
      let wake: (() => void) | null = null;
      const push = (item: (typeof queue)[number]): void => {
        // A peer too slow for 10,000 notices is told to start over instead.
        if (queue.length >= 10_000) queue.splice(0, queue.length, { kind: "resync" });
        else queue.push(item);
        wake?.();
      };
      const unsubscribe = d.changes.subscribe((notice) => push({ kind: "change", notice }));
      const unresync = d.changes.onResync?.(() => push({ kind: "resync" })) ?? (() => {});
      const onShutdown = (): void => wake?.();
      d.shutdown?.addEventListener("abort", onShutdown);
      stream.onAbort(() => wake?.());
      try {
        await stream.writeSSE({ event: "ready", data: "{}" });
        const heartbeatMs = d.heartbeatMs ?? 10_000;
        while (!stream.aborted && !stream.closed && !d.shutdown?.aborted) {
          const next = queue.shift();
          if (next) {
            if (next.kind === "change") await stream.writeSSE({ event: "change", data: JSON.stringify(next.notice) });
            else await stream.writeSSE({ event: "resync", data: "{}" });
            continue;
          }
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => {
            wake = resolve;
            timer = setTimeout(resolve, heartbeatMs);
          });
          clearTimeout(timer);
          wake = null;
          if (queue.length === 0 && !stream.aborted && !d.shutdown?.aborted) await stream.write(": heartbeat\n\n");
        }
      } finally {
        state.streams--;
        unsubscribe();
        unresync();
        d.shutdown?.removeEventListener("abort", onShutdown);
      }
    });
  });

  return app;
}

/** `Authorization: Bearer <cluster token>`, compared in constant time (SHA-256 digests of equal length). */
export function requireClusterToken(token: string): MiddlewareHandler<AppEnv> {
  const expected = createHash("sha256").update(token).digest();
  return async (c, next) => {
    const h = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(h);
    const presented = createHash("sha256")
      .update(m?.[1]?.trim() ?? "")
      .digest();
    if (!m || !timingSafeEqual(presented, expected)) {
      throw new PiCloudError("unauthorized", "cluster token required", {
        headers: { "WWW-Authenticate": 'Bearer realm="picloud-cluster"' },
      });
    }
    await next();
  };
}

async function jsonBody(req: Request): Promise<Record<string, unknown>> {
  try {
    const v = (await req.json()) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new PiCloudError("bad_request", "the body must be a JSON object");
}

function isLogLike(v: unknown): boolean {
  if (!v || typeof v !== "object" || Array.isArray(v)) return false;
  const l = v as Record<string, unknown>;
  return typeof l["id"] === "string" && typeof l["scriptId"] === "string" && typeof l["status"] === "string";
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message.slice(0, 300) : String(err);
}
