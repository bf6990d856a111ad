import type { ExecutionLog, ExecutionLogSummary } from "@picloud/shared";

export type ExecutionListener = (summary: ExecutionLogSummary) => void;

/** Drops what a list row leaves out: the captured logs (counted instead). */
export function summarize(log: ExecutionLog): ExecutionLogSummary {
  const { logs, ...rest } = log;
  return { ...rest, logCount: logs.length };
}

/**
 * New executions as they happen, per script, for the dashboard's live list (SSE). A slow
 * or failing listener never affects the writer.
 */
export class ExecutionFeed {
  readonly #byScript = new Map<string, Set<ExecutionListener>>();

  subscribe(scriptId: string, listener: ExecutionListener): () => void {
    let set = this.#byScript.get(scriptId);
    if (!set) {
      set = new Set();
      this.#byScript.set(scriptId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#byScript.delete(scriptId);
    };
  }

  publish(log: ExecutionLog): void {
    const set = this.#byScript.get(log.scriptId);
    if (!set) return;
    const summary = summarize(log);
    for (const l of set) {
      try {
        l(summary);
      } catch {
        // a listener's fault stays its own
      }
    }
  }

  listeners(): number {
    let n = 0;
    for (const s of this.#byScript.values()) n += s.size;
    return n;
  }
}

/**
 * Wraps the sink's writer so that the feed hears of executions once they are stored: a
 * live event then means "readable now" (GET /api/executions/{id} finds it).
 */
export function publishingWriter(
  inner: { insertBatch(logs: readonly ExecutionLog[]): Promise<number> },
  feed: ExecutionFeed,
): { insertBatch(logs: readonly ExecutionLog[]): Promise<number> } {
  return {
    async insertBatch(logs) {
      const n = await inner.insertBatch(logs);
      for (const log of logs) feed.publish(log);
      return n;
    },
  };
}
