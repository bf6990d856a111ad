import { z } from "zod";
import { EXECUTION_STATUSES, ExecutionLogSchema } from "../execution.ts";

/** A row of a script's execution list: bodies and captured logs are left out (`logCount` instead). */
export const ExecutionLogSummarySchema = ExecutionLogSchema.omit({ logs: true }).extend({
  logCount: z.number().int().nonnegative(),
});
export type ExecutionLogSummary = z.infer<typeof ExecutionLogSummarySchema>;

/** Query of GET /api/scripts/{id}/logs (docs/api.md, "Logs"). */
export const LogsQuerySchema = z.object({
  // Clamped, not rejected: limit=500 gives 200 rows (docs/api.md#logs).
  limit: z.coerce
    .number()
    .int()
    .min(0)
    .default(50)
    .transform((n) => Math.min(n, 200)),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
  status: z.enum(EXECUTION_STATUSES).optional(),
  since: z.coerce.date().optional(),
  until: z.coerce.date().optional(),
  cursor: z.string().max(200).optional(),
});

/**
 * Events of GET /api/scripts/{id}/logs/stream: `ready` once subscribed (data
 * `{scriptId}`), then `execution` per new run (data: an `ExecutionLogSummary`), and
 * comment heartbeats when idle.
 */
export const LOG_STREAM_EVENTS = { ready: "ready", execution: "execution" } as const;
