import type { ExecutionLog, RejectedRow } from "@picloud/shared";

/** What `insertIsolating` did: rows newly inserted, and the rows refused (by index in the batch). */
export interface IsolatedInsert {
  inserted: number;
  rejected: RejectedRow[];
}

/**
 * Stores a batch through an all-or-nothing `insert` that cannot say which row it refused
 * (a multi-row INSERT). When `refusal(err)` says the error is about the data (it returns a
 * message; null means a transient failure), the batch is split in halves until each refused
 * row stands alone, so that one bad row never holds up the others. A transient error is
 * thrown as it is; what was stored before it stays stored (inserts are idempotent by id).
 */
export async function insertIsolating(
  logs: readonly ExecutionLog[],
  insert: (logs: readonly ExecutionLog[]) => Promise<number>,
  refusal: (err: unknown) => string | null,
): Promise<IsolatedInsert> {
  const out: IsolatedInsert = { inserted: 0, rejected: [] };
  const run = async (from: number, to: number): Promise<void> => {
    if (from >= to) return;
    try {
      out.inserted += await insert(logs.slice(from, to));
    } catch (err) {
      const message = refusal(err);
      if (message === null) throw err;
      if (to - from === 1) {
        out.rejected.push({ index: from, reason: "refused", message });
        return;
      }
      const mid = (from + to) >> 1;
      await run(from, mid);
      await run(mid, to);
    }
  };
  await run(0, logs.length);
  return out;
}
