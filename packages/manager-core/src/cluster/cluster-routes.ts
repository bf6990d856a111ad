import { type AppEnv, bearerIsOneOf } from "@picloud/http";
import {
  CHANGE_EVENTS,
  type ChangeFeed,
  type ChangeNotice,
  CLUSTER_PREFIX,
  CLUSTER_ROUTES,
  type LogWriter,
  type MinimalLogger,
  PiCloudError,
  type ResolvedScript,
  type RouteResponse,
} from "@picloud/shared";
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";
import type { z } from "zod";
import type { AdminAuth } from "../auth/admin-auth.ts";
import type { ExecutionFeed } from "../events/execution-feed.ts";
import { issuesText, LogBatchEnvelopeSchema, storeLogBatch } from "./log-batches.ts";

export interface ClusterRoutesDeps {
  /** The shared secret of the cluster (`PICLOUD_CLUSTER_TOKEN`). */
  token: string;
  scripts: { resolve(idOrName: string): Promise<ResolvedScript | null> };
  keys: { verify(scriptId: string, key: string): Promise<boolean> };
  auth: Pick<AdminAuth, "verifyToken" | "verifySession">;
  /** Where log batches go: `PostgresLogWriter` over `ExecutionLogsRepository`. */
  logs: LogWriter;
  /** Told about stored logs, for the dashboard's live stream. */
  feed?: ExecutionFeed;
  /** Script change notices (PgChangeFeed), streamed to orchestrators. */
  changes: ChangeFeed;
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

/** Where Hono mounts a route of the protocol. */
const at = (route: { path: string }): string => `${CLUSTER_PREFIX}${route.path}`;

/**
 * The manager's side of the cluster protocol (`CLUSTER_ROUTES` in @picloud/shared;
 * docs/cluster.md), authenticated with `Authorization: Bearer <cluster token>` (compared in
 * constant time). Request bodies are validated with the protocol's schemas (400 in the error
 * contract otherwise) and answers are typed by its response schemas. A log batch answers
 * 2xx only once its storable rows are stored, naming the rejected ones in `rejected`.
 */
export function clusterRoutes(d: ClusterRoutesDeps): Hono<AppEnv> & { state: ClusterRoutesState } {
  const app = new Hono<AppEnv>() as Hono<AppEnv> & { state: ClusterRoutesState };
  const state: ClusterRoutesState = { streams: 0 };
  app.state = state;
  if (d.token.length < 32) throw new Error("the cluster token must be at least 32 characters");
  app.use(`${CLUSTER_PREFIX}/*`, requireClusterToken(d.token));

  app.get(at(CLUSTER_ROUTES.script), async (c) => {
    const idOrName = c.req.param("idOrName") ?? "";
    const script = await d.scripts.resolve(idOrName);
    if (!script) throw new PiCloudError("not_found", `no script ${JSON.stringify(idOrName)}`);
    c.header("cache-control", "no-store");
    return c.json(script satisfies RouteResponse<typeof CLUSTER_ROUTES.script>);
  });

  app.post(at(CLUSTER_ROUTES.verifyInvokeKey), async (c) => {
    const { scriptId, key } = await readBody(c.req.raw, CLUSTER_ROUTES.verifyInvokeKey.request);
    return c.json({ valid: await d.keys.verify(scriptId, key) } satisfies RouteResponse<
      typeof CLUSTER_ROUTES.verifyInvokeKey
    >);
  });

  app.post(at(CLUSTER_ROUTES.verifyAdmin), async (c) => {
    const { token, session } = await readBody(c.req.raw, CLUSTER_ROUTES.verifyAdmin.request);
    let valid = false;
    if (token) valid = d.auth.verifyToken(token);
    if (!valid && session) valid = await d.auth.verifySession(session);
    return c.json({ valid } satisfies RouteResponse<typeof CLUSTER_ROUTES.verifyAdmin>);
  });

  const maxRows = d.maxBatchRows ?? 5000;
  app.post(
    at(CLUSTER_ROUTES.executionLogs),
    bodyLimit({
      maxSize: d.maxBatchBytes ?? 64 * 1024 * 1024,
      onError: () => {
        throw new PiCloudError("payload_too_large", "execution-log batch too large: send smaller batches");
      },
    }),
    async (c) => {
      const { logs } = await readBody(c.req.raw, LogBatchEnvelopeSchema);
      if (logs.length > maxRows) {
        throw new PiCloudError("payload_too_large", `at most ${maxRows} rows per batch`);
      }
      const answer = await storeLogBatch(logs, { writer: d.logs, feed: d.feed, logger: d.logger, onBatch: d.onBatch });
      return c.json(answer satisfies RouteResponse<typeof CLUSTER_ROUTES.executionLogs>);
    },
  );

  app.get(at(CLUSTER_ROUTES.changes), (c) => {
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
      const unresync = d.changes.onResync(() => push({ kind: "resync" }));
      const onShutdown = (): void => wake?.();
      d.shutdown?.addEventListener("abort", onShutdown);
      stream.onAbort(() => wake?.());
      try {
        await stream.writeSSE({ event: CHANGE_EVENTS.ready, data: "{}" });
        const heartbeatMs = d.heartbeatMs ?? 10_000;
        while (!stream.aborted && !stream.closed && !d.shutdown?.aborted) {
          const next = queue.shift();
          if (next) {
            if (next.kind === "change") {
              await stream.writeSSE({ event: CHANGE_EVENTS.change, data: JSON.stringify(next.notice) });
            } else {
              await stream.writeSSE({ event: CHANGE_EVENTS.resync, data: "{}" });
            }
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

/** `Authorization: Bearer <cluster token>`, compared in constant time (`bearerIsOneOf`). */
export function requireClusterToken(token: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!bearerIsOneOf(c, [token])) {
      throw new PiCloudError("unauthorized", "cluster token required", {
        headers: { "WWW-Authenticate": 'Bearer realm="picloud-cluster"' },
      });
    }
    await next();
  };
}

/** The JSON body, validated: a 400 in the error contract naming the problems otherwise. */
async function readBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.output<S>> {
  let json: unknown;
  try {
    json = await req.json();
  } catch {
    throw new PiCloudError("bad_request", "the body must be JSON");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new PiCloudError("bad_request", `invalid request: ${issuesText(parsed.error)}`, {
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
    });
  }
  return parsed.data;
}
