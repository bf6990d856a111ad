import { z } from "zod";

/** How an invocation ended (docs/executor.md#budgets-and-outcomes). */
export const EXECUTION_STATUSES = ["success", "error", "timeout", "budget_exceeded"] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
export const ExecutionStatusSchema = z.enum(EXECUTION_STATUSES);

/**
 * Why, precisely. `ok` for success; the rest name the fault or the exhausted budget.
 * Kept open (string) so a newer executor can report a reason an older reader lacks.
 */
export const EXECUTION_REASONS = [
  "ok",
  "script_threw",
  "invalid_module",
  "invalid_return",
  "executor_crashed",
  "executor_unavailable",
  "internal_error",
  "wall_time",
  "cpu_time",
  "heap",
  "request_too_large",
  "response_too_large",
  "log_limit",
  "fetch_limit",
] as const;
export type KnownReason = (typeof EXECUTION_REASONS)[number];
export type ExecutionReason = KnownReason | (string & {});

/** How an execution started. */
export const TRIGGERS = ["http", "test"] as const;
export type Trigger = (typeof TRIGGERS)[number] | (string & {});

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One line a script logged through `console.*` or `log.*`. `ts` is epoch milliseconds. */
export const LogEntrySchema = z.object({
  level: z.enum(LOG_LEVELS),
  message: z.string(),
  data: z.unknown().optional(),
  ts: z.number(),
});
export type LogEntry = z.infer<typeof LogEntrySchema>;

/** A script error as it crosses the isolate and process boundaries: plain data only. */
export const SerializedErrorSchema = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().nullable(),
});
export type SerializedError = z.infer<typeof SerializedErrorSchema>;

/** A request or response as stored: headers redacted, body truncated. */
const HttpSummaryShape = {
  headers: z.record(z.string(), z.string()),
  /** UTF-8 text of the body (binary bodies as base64, see `bodyEncoding`), truncated; null when there was none. */
  body: z.string().nullable(),
  bodyEncoding: z.enum(["utf8", "base64"]),
  bodySize: z.number(),
  bodyTruncated: z.boolean(),
};
export type HttpSummary = z.infer<z.ZodObject<typeof HttpSummaryShape>>;

export const RequestSummarySchema = z.object({
  method: z.string(),
  path: z.string(),
  query: z.string(),
  ...HttpSummaryShape,
});
export type RequestSummary = z.infer<typeof RequestSummarySchema>;

export const ResponseSummarySchema = z.object({ status: z.number().int(), ...HttpSummaryShape });
export type ResponseSummary = z.infer<typeof ResponseSummarySchema>;

/**
 * The record of one invocation, as written through the sink, carried by the cluster
 * protocol's log batches and read by the logs API. Ids are checked as PostgreSQL reads a
 * uuid (any version), so a row this schema accepts is one the store can hold. Objects are
 * not strict: a newer orchestrator's extra field does not make a row unstorable.
 */
export const ExecutionLogSchema = z.object({
  /** UUIDv7: ordered by time. */
  id: z.guid(),
  scriptId: z.guid(),
  scriptName: z.string(),
  version: z.number().int(),
  /** How it started (`TRIGGERS`; kept open). */
  trigger: z.string(),
  status: ExecutionStatusSchema,
  /** Why, precisely (`EXECUTION_REASONS`; kept open). */
  reason: z.string(),
  request: RequestSummarySchema,
  response: ResponseSummarySchema.nullable(),
  logs: z.array(LogEntrySchema),
  logsTruncated: z.boolean(),
  error: SerializedErrorSchema.nullable(),
  durationMs: z.number(),
  cpuMs: z.number(),
  nodeId: z.string(),
  /** ISO-8601. */
  createdAt: z.string(),
});
export type ExecutionLog = z.infer<typeof ExecutionLogSchema>;

/**
 * Why a store can never take a row: `invalid` (not an execution log: fails
 * `ExecutionLogSchema`) or `refused` (the database refuses it as data, e.g. a value out of
 * range). Retrying such a row cannot help; every other failure is transient.
 */
export const REJECTION_REASONS = ["invalid", "refused"] as const;

/** One row a store can never take, by its index in the batch it came in. */
export const RejectedRowSchema = z.object({
  index: z.number().int().nonnegative(),
  reason: z.enum(REJECTION_REASONS),
  message: z.string(),
});
export type RejectedRow = z.infer<typeof RejectedRowSchema>;

/**
 * The domain error of a `LogWriter`: the rows named in `rejected` can never be stored; every
 * other row of the batch is stored (`inserted` of them newly). Writers translate their own
 * failures (SQLSTATEs, HTTP answers) into it; anything else a writer throws is transient.
 */
export class RowsRejectedError extends Error {
  override readonly name: string = "RowsRejectedError";
  readonly rejected: readonly RejectedRow[];
  readonly inserted: number;

  constructor(rejected: readonly RejectedRow[], inserted: number) {
    super(`${rejected.length} execution log row(s) rejected: ${rejected[0]?.message ?? "no reason given"}`);
    this.rejected = rejected;
    this.inserted = inserted;
  }
}

/**
 * Where a buffered sink stores batches (PostgreSQL in manager-core; the manager over HTTP on
 * an orchestrator). `writeBatch` is idempotent by row id, so a retry after a lost answer never
 * duplicates; it resolves with the rows newly stored, or rejects with `RowsRejectedError`
 * (some rows can never be stored, the rest are) or any other error (transient: retry all).
 */
export interface LogWriter {
  writeBatch(logs: readonly ExecutionLog[]): Promise<number>;
}

/** Counters every sink keeps, exported as metrics. */
export interface SinkStats {
  buffered: number;
  written: number;
  failed: number;
  dropped: number;
  spilled: number;
}

/**
 * Where every outcome goes. `write` never throws and never waits on storage: a slow or
 * failing store must not change the caller's response. `flush` waits until what was
 * written so far is stored (or spilled); `close` flushes and releases resources.
 */
export interface ExecutionLogSink {
  write(log: ExecutionLog): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): SinkStats;
}

/** A sink that keeps nothing, for benchmarks with the sink off. */
export class NullSink implements ExecutionLogSink {
  #written = 0;
  write(): void {
    this.#written++;
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  stats(): SinkStats {
    return { buffered: 0, written: this.#written, failed: 0, dropped: 0, spilled: 0 };
  }
}
