import type { ExecutionLog } from "@picloud/shared";

/** A row inside the sink, numbered in the order `write` took it (for `flush`). */
export interface Entry {
  readonly seq: number;
  readonly log: ExecutionLog;
}

/**
 * The sink's rows in memory: queued, or in a batch being written. A batch ends through
 * `settle`, which puts back at the front the rows to be written again.
 */
export class BatchQueue {
  #queued: Entry[] = [];
  readonly #inflight = new Set<Entry[]>();
  #inflightRows = 0;

  /** Rows waiting for a batch. */
  get queued(): number {
    return this.#queued.length;
  }

  /** Rows in batches being written. */
  get inflight(): number {
    return this.#inflightRows;
  }

  /** Rows in memory: queued and in flight. */
  get size(): number {
    return this.#queued.length + this.#inflightRows;
  }

  push(entry: Entry): void {
    this.#queued.push(entry);
  }

  /** Takes up to `n` rows off the front as a batch in flight. */
  take(n: number): Entry[] {
    const batch = this.#queued.splice(0, n);
    this.#inflight.add(batch);
    this.#inflightRows += batch.length;
    return batch;
  }

  /** Ends a batch in flight; `retry` (rows of it to write again) go back to the front, in order. */
  settle(batch: Entry[], retry: readonly Entry[] = []): void {
    if (!this.#inflight.delete(batch)) return;
    this.#inflightRows -= batch.length;
    if (retry.length > 0) this.#queued.unshift(...retry);
  }

  /** Takes every queued row (not those in flight). */
  takeQueued(): Entry[] {
    const all = this.#queued;
    this.#queued = [];
    return all;
  }

  /**
   * At close: every row, in flight and queued. Queued rows leave the queue; rows in flight
   * are copied, and their batches still end through `settle`.
   */
  takeAll(): Entry[] {
    return [...[...this.#inflight].flat(), ...this.takeQueued()];
  }

  /** The smallest sequence number held (Infinity when empty). */
  minSeq(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const e of this.#queued) if (e.seq < min) min = e.seq;
    for (const batch of this.#inflight) for (const e of batch) if (e.seq < min) min = e.seq;
    return min;
  }
}
