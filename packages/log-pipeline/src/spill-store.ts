import { join } from "node:path";
import { type ExecutionLog, type MinimalLogger, safeLog } from "@picloud/shared";
import { toLine } from "./ndjson.ts";
import { type ReplayBatch, ReplayCursor, type ReplaySource } from "./replay-cursor.ts";
import { SegmentFiles } from "./segment-files.ts";
import { errorSummary } from "./warnings.ts";

/** The spill directory under a service's data directory. */
export const SPILL_DIR = "sink-spill";

export interface SpillStoreOptions {
  /** The directory of the spill segments (created if missing). */
  dir: string;
  /** Bytes of spill files on disk (default 256 MiB); rows beyond it are not written. */
  maxBytes?: number;
  /** A segment is sealed (and can be replayed and deleted) every this many bytes (default min(8 MiB, maxBytes / 4)). */
  segmentBytes?: number;
  logger?: MinimalLogger;
}

/** What an `append` did: rows written, and rows left out because the cap was reached. */
export interface SpillResult {
  spilled: number;
  overCap: number;
}

/**
 * Rows a sink cannot keep in memory, on local disk until the store takes them: NDJSON
 * segments (one `ExecutionLog` per line) under a byte cap, replayed oldest first through a
 * `ReplayCursor`. Segments left by an earlier process are picked up at start. When the
 * directory cannot be used, `usable` turns false and nothing is written.
 */
export class SpillStore implements ReplaySource {
  readonly ready: Promise<void>;
  readonly #files: SegmentFiles;
  readonly #cursor: ReplayCursor;
  readonly #maxBytes: number;
  readonly #logger: MinimalLogger | undefined;
  /** Bytes of appends on their way to disk, counted against the cap before they land. */
  #reserved = 0;
  #usable = true;

  /** A spill store in `<dataDir>/sink-spill/`. */
  static inDataDir(dataDir: string, o: Omit<SpillStoreOptions, "dir"> = {}): SpillStore {
    return new SpillStore({ ...o, dir: join(dataDir, SPILL_DIR) });
  }

  constructor(o: SpillStoreOptions) {
    this.#maxBytes = o.maxBytes ?? 256 * 1024 * 1024;
    this.#logger = o.logger;
    this.#files = new SegmentFiles({
      dir: o.dir,
      segmentBytes: o.segmentBytes ?? Math.min(8 * 1024 * 1024, Math.ceil(this.#maxBytes / 4)),
    });
    this.#cursor = new ReplayCursor(this.#files, {
      onLost: (segment, err) =>
        safeLog(
          this.#logger,
          "warn",
          { err: errorSummary(err), file: segment.path },
          "execution-log sink: spill file lost",
        ),
    });
    this.ready = this.#open();
  }

  get usable(): boolean {
    return this.#usable;
  }

  /** Bytes spilled and not yet replayed (on disk, or on their way). */
  get bytes(): number {
    return this.#files.bytes + this.#reserved;
  }

  /**
   * Appends rows up to the byte cap; rows beyond it are left out (`overCap`). Rejects when
   * the disk fails, with none of the rows counted as spilled.
   */
  async append(logs: readonly ExecutionLog[]): Promise<SpillResult> {
    await this.ready;
    if (!this.#usable) throw new Error("the spill directory is not usable");
    const lines: string[] = [];
    let bytes = 0;
    let overCap = 0;
    for (const log of logs) {
      const line = toLine(log);
      const n = Buffer.byteLength(line);
      if (this.bytes + bytes + n > this.#maxBytes) {
        overCap++;
        continue;
      }
      lines.push(line);
      bytes += n;
    }
    if (lines.length === 0) return { spilled: 0, overCap };
    // Reserved before the await, so that appends queued behind this one respect the cap.
    this.#reserved += bytes;
    try {
      await this.#files.append(lines.join(""), bytes);
    } finally {
      this.#reserved -= bytes;
    }
    return { spilled: lines.length, overCap };
  }

  hasWork(): boolean {
    return this.#cursor.hasWork();
  }

  read(max: number): Promise<ReplayBatch | null> {
    return this.#cursor.read(max);
  }

  advance(batch: ReplayBatch): Promise<void> {
    return this.#cursor.advance(batch);
  }

  /** Closes the active segment; what is on disk stays for the next start. */
  async close(): Promise<void> {
    await this.ready;
    await this.#files.close();
  }

  async #open(): Promise<void> {
    try {
      const left = await this.#files.open();
      if (left.length > 0) {
        safeLog(
          this.#logger,
          "info",
          { files: left.length, bytes: this.#files.bytes },
          "execution-log sink: replaying rows spilled by an earlier run",
        );
      }
    } catch (err) {
      this.#usable = false;
      safeLog(
        this.#logger,
        "warn",
        { err: errorSummary(err), dir: this.#files.dir },
        "execution-log sink: spill directory not usable; rows beyond the memory buffer will be dropped",
      );
    }
  }
}
