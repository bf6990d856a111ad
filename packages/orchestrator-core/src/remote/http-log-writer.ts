import type { ExecutionLog } from "@picloud/shared";
import { errorFrom, type ManagerClient } from "./manager-client.ts";

/**
 * The `insertBatch` of a remote execution-log store: POSTs a batch to the manager, which
 * answers 2xx only once the rows are stored (idempotent by id). Meant as the `repository`
 * of manager-core's `PostgresExecutionLogSink`, which brings the buffer, the spill file,
 * retries with backoff and bad-row isolation: a 400 carrying `details.sqlState` rejects
 * with that SQLSTATE as `code`, exactly as a local database error would.
 */
export class HttpLogWriter {
  readonly #client: ManagerClient;
  readonly #timeoutMs: number;
  #batches = 0;
  #rows = 0;

  constructor(o: { client: ManagerClient; timeoutMs?: number }) {
    this.#client = o.client;
    this.#timeoutMs = o.timeoutMs ?? 10_000;
  }

  async insertBatch(logs: ExecutionLog[]): Promise<number> {
    if (logs.length === 0) return 0;
    const res = await this.#client.request("/execution-logs", {
      method: "POST",
      body: toJson(logs),
      timeoutMs: this.#timeoutMs,
    });
    if (!res.ok) throw await errorFrom(res);
    const body = (await res.json()) as { inserted?: number };
    this.#batches++;
    this.#rows += logs.length;
    return Number(body.inserted ?? 0);
  }

  stats(): { batches: number; rows: number } {
    return { batches: this.#batches, rows: this.#rows };
  }
}

/** JSON of a batch; values JSON cannot carry (BigInt, cycles) are replaced rather than failing it. */
function toJson(logs: ExecutionLog[]): string {
  try {
    return JSON.stringify({ logs });
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify({ logs }, (_k, v: unknown) => {
      if (typeof v === "bigint") return v.toString();
      if (typeof v === "object" && v !== null) {
        if (seen.has(v)) return "[Circular]";
        seen.add(v);
      }
      return v;
    });
  }
}
