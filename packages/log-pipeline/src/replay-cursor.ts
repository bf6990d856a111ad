import type { ExecutionLog } from "@picloud/shared";
import { readLines } from "./ndjson.ts";
import type { Segment, SegmentFiles } from "./segment-files.ts";

/** Rows read from a segment, not yet stored. */
export interface ReplayBatch {
  readonly logs: ExecutionLog[];
  /** Unreadable lines in the range read (counted as dropped once the batch is passed). */
  readonly bad: number;
  readonly segment: Segment;
  /** Offset in the segment right after this batch. */
  readonly next: number;
}

/** Rows on disk waiting to be stored, read a batch at a time (the sink's replay turns). */
export interface ReplaySource {
  hasWork(): boolean;
  /** The next batch of at most `max` rows, or null when there is none right now. */
  read(max: number): Promise<ReplayBatch | null>;
  /** The batch is stored (or its rows rejected): move past it. */
  advance(batch: ReplayBatch): Promise<void>;
}

/**
 * Reads the sealed segments of a `SegmentFiles`, oldest first, a batch at a time. A segment
 * is deleted only once every row of it has been passed with `advance`, so a crash mid-replay
 * replays it again; rows are stored idempotently by id, so nothing is written twice. The
 * offset lives in memory: after a restart a leftover segment is replayed from its start.
 */
export class ReplayCursor implements ReplaySource {
  readonly #files: SegmentFiles;
  readonly #onLost: (segment: Segment, err: unknown) => void;
  #head: Segment | null = null;
  #offset = 0;

  constructor(files: SegmentFiles, o: { onLost: (segment: Segment, err: unknown) => void }) {
    this.#files = files;
    this.#onLost = o.onLost;
  }

  hasWork(): boolean {
    return this.#files.sealed.length > 0 || this.#files.activeBytes > 0;
  }

  /**
   * Reads from the oldest segment, sealing the active file first when nothing is sealed. A
   * segment that cannot be read (deleted by hand?) is given up: removed and reported to `onLost`.
   */
  async read(max: number): Promise<ReplayBatch | null> {
    if (this.#files.sealed.length === 0 && this.#files.activeBytes > 0) await this.#files.seal();
    const segment = this.#files.sealed[0];
    if (!segment) return null;
    if (segment !== this.#head) {
      this.#head = segment;
      this.#offset = 0;
    }
    try {
      const r = await readLines(segment.path, this.#offset, max);
      return { logs: r.logs, bad: r.bad, segment, next: r.next };
    } catch (err) {
      await this.#files.remove(segment);
      this.#onLost(segment, err);
      return null;
    }
  }

  async advance(batch: ReplayBatch): Promise<void> {
    if (batch.segment !== this.#head) return;
    this.#offset = batch.next;
    if (batch.next >= batch.segment.size || (batch.logs.length === 0 && batch.bad === 0)) {
      // Every row of this segment is stored: only now does it go.
      this.#head = null;
      this.#offset = 0;
      await this.#files.remove(batch.segment);
    }
  }
}
