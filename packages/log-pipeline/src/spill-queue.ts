import type { Entry } from "./batch-queue.ts";
import type { SpillStore } from "./spill-store.ts";
import { errorSummary } from "./warnings.ts";

export interface SpillQueueOptions {
  store: SpillStore;
  /** Rows waiting for the disk beyond which `offer` refuses. */
  limit: number;
  /** Rows per append (default 1000). */
  chunkRows?: number;
  /** Rows that could not be spilled (cap reached, disk failing): the sink counts and warns. */
  onDrop: (n: number, reason: string, extra?: object) => void;
  /** A chunk has landed (or was dropped): flush waiters may be settled. */
  onProgress: () => void;
  /** Nothing is waiting any more: the spilled rows are replay work. */
  onIdle: () => void;
}

/**
 * The rows on their way to the spill store: staged in memory (bounded for new rows), then
 * appended in chunks, one append at a time. Each row is settled once its chunk has landed
 * or been dropped.
 */
export class SpillQueue {
  readonly #o: Required<SpillQueueOptions>;
  #staged: Entry[] = [];
  #writing: Entry[] | null = null;
  #running: Promise<void> | null = null;
  #spilled = 0;

  constructor(o: SpillQueueOptions) {
    this.#o = { chunkRows: 1000, ...o };
  }

  /** Rows staged or being appended. */
  get size(): number {
    return this.#staged.length + (this.#writing?.length ?? 0);
  }

  /** Rows written to the spill store so far. */
  get spilled(): number {
    return this.#spilled;
  }

  /** Stages a new row; false when `limit` rows are waiting already (the caller drops it). */
  offer(entry: Entry): boolean {
    if (this.#staged.length >= this.#o.limit) return false;
    this.#staged.push(entry);
    this.#kick();
    return true;
  }

  /** Stages rows whatever the limit: the memory queue moving to disk (flush or close during an outage). */
  stage(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    for (const e of entries) this.#staged.push(e);
    this.#kick();
  }

  /** The smallest sequence number staged or being appended (Infinity when none). */
  minSeq(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const e of this.#staged) if (e.seq < min) min = e.seq;
    for (const e of this.#writing ?? []) if (e.seq < min) min = e.seq;
    return min;
  }

  /** Resolves once nothing is staged or being appended. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  #kick(): void {
    if (this.#running) return;
    this.#running = this.#loop().finally(() => {
      this.#running = null;
      if (this.#staged.length > 0) this.#kick();
    });
  }

  async #loop(): Promise<void> {
    const { store } = this.#o;
    await store.ready;
    while (this.#staged.length > 0) {
      const chunk = this.#staged.splice(0, this.#o.chunkRows);
      this.#writing = chunk;
      try {
        if (!store.usable) {
          this.#o.onDrop(chunk.length, "spill directory not usable");
        } else {
          const r = await store.append(chunk.map((e) => e.log));
          this.#spilled += r.spilled;
          if (r.overCap > 0) this.#o.onDrop(r.overCap, "spill file full");
        }
      } catch (err) {
        this.#o.onDrop(chunk.length, "spill file not writable", { err: errorSummary(err) });
      }
      this.#writing = null;
      this.#o.onProgress();
    }
    this.#o.onIdle();
  }
}
