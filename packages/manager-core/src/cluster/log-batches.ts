import {
  type ExecutionLog,
  LogBatchRequestSchema,
  type LogBatchResponse,
  type LogWriter,
  type MinimalLogger,
  PiCloudError,
  type RejectedRow,
  RowsRejectedError,
  safeLog,
} from "@picloud/shared";
import { z } from "zod";
import type { ExecutionFeed } from "../events/execution-feed.ts";

/** The batch envelope as first read: rows are checked one by one, so that one bad row costs only itself. */
export const LogBatchEnvelopeSchema = LogBatchRequestSchema.extend({ logs: z.array(z.unknown()) });
const RowSchema = LogBatchRequestSchema.shape.logs.element;

export interface LogBatchDeps {
  /** Where rows go (`PostgresLogWriter`): idempotent by id, refused rows as `RowsRejectedError`. */
  writer: LogWriter;
  /** Told about stored logs, for the dashboard's live stream. */
  feed?: ExecutionFeed;
  logger?: MinimalLogger;
  onBatch?: (rows: number, inserted: number) => void;
}

/**
 * Stores a batch from an orchestrator and says which rows were rejected and why: `invalid`
 * (not an execution log by the protocol's schema) or `refused` (the database refused it as
 * data). Every other row is stored before this resolves. A failure of the database itself
 * is a 503 (the orchestrator keeps the rows and retries).
 */
export async function storeLogBatch(rows: readonly unknown[], d: LogBatchDeps): Promise<LogBatchResponse> {
  const rejected: RejectedRow[] = [];
  const valid: ExecutionLog[] = [];
  const indexOf: number[] = [];
  for (const [index, row] of rows.entries()) {
    const parsed = RowSchema.safeParse(row);
    if (parsed.success) {
      valid.push(parsed.data);
      indexOf.push(index);
    } else {
      rejected.push({ index, reason: "invalid", message: issuesText(parsed.error) });
    }
  }
  let inserted = 0;
  const refused = new Set<number>();
  if (valid.length > 0) {
    try {
      inserted = await d.writer.writeBatch(valid);
    } catch (err) {
      if (!(err instanceof RowsRejectedError)) {
        safeLog(d.logger, "warn", { err: errText(err), rows: rows.length }, "cluster: storing a log batch failed");
        throw new PiCloudError("service_unavailable", "the execution logs could not be stored; retry", {
          headers: { "Retry-After": "1" },
        });
      }
      inserted = err.inserted;
      for (const r of err.rejected) {
        const index = indexOf[r.index];
        if (index === undefined) continue;
        refused.add(r.index);
        rejected.push({ ...r, index });
      }
      rejected.sort((a, b) => a.index - b.index);
    }
  }
  d.onBatch?.(rows.length, inserted);
  // A fully duplicate batch (a retry whose first answer was lost) was published already.
  if (d.feed && inserted > 0) for (const [i, log] of valid.entries()) if (!refused.has(i)) d.feed.publish(log);
  return { received: rows.length, inserted, rejected };
}

/** zod issues as one line: `path: message; …`. */
export function issuesText(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join(".") || "value"}: ${i.message}`)
    .join("; ");
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message.slice(0, 300) : String(err);
}
