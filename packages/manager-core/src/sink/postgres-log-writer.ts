import { insertIsolating } from "@picloud/log-pipeline";
import { type ExecutionLog, type LogWriter, RowsRejectedError } from "@picloud/shared";
import { sqlState } from "../db/errors.ts";

/** What the writer needs of the repository: an idempotent (by id) batch insert. */
export interface ExecutionLogInserter {
  insertBatch(logs: readonly ExecutionLog[]): Promise<number>;
}

/**
 * The `LogWriter` over PostgreSQL (or PGlite): `ExecutionLogsRepository.insertBatch`
 * (`ON CONFLICT (id) DO NOTHING`, so retries never duplicate). A batch the database refuses
 * as data (SQLSTATE class 22 or 23) is split until the refused rows stand alone; they come
 * back as `RowsRejectedError` (reason `refused`) with the rest stored. Every other error
 * (connection lost, timeout, the database down) is transient and thrown as it is.
 */
export class PostgresLogWriter implements LogWriter {
  readonly #repository: ExecutionLogInserter;

  constructor(repository: ExecutionLogInserter) {
    this.#repository = repository;
  }

  async writeBatch(logs: readonly ExecutionLog[]): Promise<number> {
    const { inserted, rejected } = await insertIsolating(logs, (b) => this.#repository.insertBatch(b), refusal);
    if (rejected.length > 0) throw new RowsRejectedError(rejected, inserted);
    return inserted;
  }
}

/** A data exception (22) or integrity violation (23): retrying the same row cannot help. */
function refusal(err: unknown): string | null {
  const code = sqlState(err);
  if (code === undefined || !(code.startsWith("22") || code.startsWith("23"))) return null;
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
  const message = cause ?? (err instanceof Error ? err.message : String(err));
  return `SQLSTATE ${code}: ${message.slice(0, 300)}`;
}
