import { insertIsolating } from "@picloud/log-pipeline";
import { type ExecutionLog, type LogWriter, RowsRejectedError, toJsonLenient } from "@picloud/shared";
import { errorFrom, type ManagerClient } from "./manager-client.ts";

/**
 * The `LogWriter` of an orchestrator: POSTs a batch to the manager, which answers 2xx only
 * once the rows are stored (idempotent by id). A 400 carrying `details.sqlState` means the
 * database refused a row of the batch: the batch is split until that row stands alone and it
 * comes back as `RowsRejectedError`; every other failure is transient.
 */
export class HttpLogWriter implements LogWriter {
  readonly #client: ManagerClient;
  readonly #timeoutMs: number;
  #batches = 0;
  #rows = 0;

  constructor(o: { client: ManagerClient; timeoutMs?: number }) {
    this.#client = o.client;
    this.#timeoutMs = o.timeoutMs ?? 10_000;
  }

  async writeBatch(logs: readonly ExecutionLog[]): Promise<number> {
    const { inserted, rejected } = await insertIsolating(logs, (b) => this.#post(b), refusal);
    if (rejected.length > 0) throw new RowsRejectedError(rejected, inserted);
    return inserted;
  }

  stats(): { batches: number; rows: number } {
    return { batches: this.#batches, rows: this.#rows };
  }

  async #post(logs: readonly ExecutionLog[]): Promise<number> {
    if (logs.length === 0) return 0;
    const res = await this.#client.request("/execution-logs", {
      method: "POST",
      body: toJsonLenient({ logs }),
      timeoutMs: this.#timeoutMs,
    });
    if (!res.ok) throw await errorFrom(res);
    const body = (await res.json()) as { inserted?: number };
    this.#batches++;
    this.#rows += logs.length;
    return Number(body.inserted ?? 0);
  }
}

function refusal(err: unknown): string | null {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("23")) ? `SQLSTATE ${code}` : null;
}
