import { CLUSTER_ROUTES, type ExecutionLog, type LogWriter, RowsRejectedError } from "@picloud/shared";
import type { ManagerClient } from "./manager-client.ts";

/**
 * The `LogWriter` of an orchestrator: POSTs a batch to the manager (`CLUSTER_ROUTES.executionLogs`),
 * which answers 2xx only once the storable rows are stored (idempotent by id) and names the
 * others in `rejected`; those become `RowsRejectedError`. Every other failure (unreachable,
 * 503, 413, a timeout) is transient: the buffered sink keeps the rows and retries.
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
    if (logs.length === 0) return 0;
    const answer = await this.#client.call(CLUSTER_ROUTES.executionLogs, {
      body: { logs: [...logs] },
      timeoutMs: this.#timeoutMs,
    });
    this.#batches++;
    this.#rows += logs.length;
    if (answer.rejected.length > 0) throw new RowsRejectedError(answer.rejected, answer.inserted);
    return answer.inserted;
  }

  stats(): { batches: number; rows: number } {
    return { batches: this.#batches, rows: this.#rows };
  }
}
