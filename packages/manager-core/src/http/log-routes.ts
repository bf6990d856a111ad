import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@picloud/http";
import {
  type ExecutionLog,
  type ExecutionLogSummary,
  type ExecutionStatus,
  type ListPage,
  LOG_STREAM_EVENTS,
  LogsQuerySchema,
  listPageOf,
  PiCloudError,
} from "@picloud/shared";
import { streamSSE } from "hono/streaming";
import type { ExecutionFeed } from "../events/execution-feed.ts";
import type { ScriptService } from "../scripts/script-service.ts";
import { ADMIN_ERRORS, ExecutionLogDoc, ExecutionLogSummaryDoc, errorAnswers, IdParam, jsonAnswer } from "./schemas.ts";

/** What the logs routes need of the execution-logs repository. */
export interface ExecutionLogsReader {
  list(
    scriptId: string,
    q: { limit: number; offset?: number; status?: ExecutionStatus; since?: Date; until?: Date; cursor?: string },
  ): Promise<ListPage<ExecutionLogSummary>>;
  get(executionId: string): Promise<ExecutionLog | null>;
}

const tags = ["logs"];

/** Paginated logs, one execution, and the live stream (docs/api.md#logs). Behind the admin guard. */
export function logRoutes(
  scripts: ScriptService,
  logs: ExecutionLogsReader,
  feed: ExecutionFeed,
  opts: { heartbeatMs?: number; shutdown?: AbortSignal } = {},
): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  const scriptOf = async (idOrName: string) => {
    const s = await scripts.repo.find(idOrName);
    if (!s) throw new PiCloudError("not_found", `no script ${JSON.stringify(idOrName)}`);
    return s;
  };

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/scripts/{id}/logs",
      tags,
      request: { params: IdParam, query: LogsQuerySchema },
      responses: {
        200: jsonAnswer(listPageOf(ExecutionLogSummaryDoc), "executions, newest first"),
        ...errorAnswers(...ADMIN_ERRORS, "not_found"),
      },
    }),
    async (c) => {
      const s = await scriptOf(c.req.valid("param").id);
      const q = c.req.valid("query");
      const page = await logs
        .list(s.id, {
          limit: q.limit,
          offset: q.offset,
          ...(q.status ? { status: q.status } : {}),
          ...(q.since ? { since: q.since } : {}),
          ...(q.until ? { until: q.until } : {}),
          ...(q.cursor ? { cursor: q.cursor } : {}),
        })
        .catch((err: unknown) => {
          // The repository rejects a malformed cursor or bound by name; that is the caller's fault.
          if (err instanceof Error && err.name === "InvalidLogsQueryError") {
            throw new PiCloudError("bad_request", err.message, {
              details: { field: (err as { field?: string }).field },
            });
          }
          throw err;
        });
      return c.json(page, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/executions/{executionId}",
      tags,
      request: {
        params: z.object({
          executionId: z
            .string()
            .uuid()
            .openapi({ param: { name: "executionId", in: "path" } }),
        }),
      },
      responses: {
        200: jsonAnswer(ExecutionLogDoc, "the whole record"),
        ...errorAnswers(...ADMIN_ERRORS, "not_found"),
      },
    }),
    async (c) => {
      const id = c.req.valid("param").executionId;
      const log = await logs.get(id);
      if (!log) throw new PiCloudError("not_found", `no execution ${id}`);
      return c.json(log, 200);
    },
  );

  // Server-Sent Events: each new execution of the script as it is recorded.
  app.get("/api/scripts/:id/logs/stream", async (c) => {
    const s = await scriptOf(c.req.param("id"));
    c.header("x-accel-buffering", "no");
    return streamSSE(c, async (stream) => {
      const queue: ExecutionLogSummary[] = [];
      let wake: (() => void) | null = null;
      const unsubscribe = feed.subscribe(s.id, (summary) => {
        if (queue.length < 1000) queue.push(summary);
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      // A drain ends open streams (the dashboard reconnects) instead of waiting for its deadline.
      const onShutdown = () => wake?.();
      opts.shutdown?.addEventListener("abort", onShutdown, { once: true });
      await stream.writeSSE({ event: LOG_STREAM_EVENTS.ready, data: JSON.stringify({ scriptId: s.id }) });
      const heartbeatMs = opts.heartbeatMs ?? 15_000;
      try {
        while (!stream.aborted && !stream.closed && !opts.shutdown?.aborted) {
          const next = queue.shift();
          if (next) {
            await stream.writeSSE({ event: LOG_STREAM_EVENTS.execution, id: next.id, data: JSON.stringify(next) });
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, heartbeatMs);
          });
          wake = null;
          if (queue.length === 0 && !stream.aborted && !opts.shutdown?.aborted) await stream.write(": heartbeat\n\n");
        }
      } finally {
        opts.shutdown?.removeEventListener("abort", onShutdown);
        unsubscribe();
      }
    });
  });
  return app;
}
