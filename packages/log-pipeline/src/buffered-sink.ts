import {
  type ExecutionLog,
  type ExecutionLogSink,
  type LogWriter,
  type MinimalLogger,
  RowsRejectedError,
  type SinkStats,
  safeLog,
} from "@picloud/shared";
import { Backoff } from "./backoff.ts";
import { BatchQueue, type Entry } from "./batch-queue.ts";
import { withTimeout } from "./deadline.ts";
import { FlushWaiters } from "./flush-waiters.ts";
import { SpillQueue } from "./spill-queue.ts";
import type { SpillStore } from "./spill-store.ts";
import { errorSummary, RateLimitedWarning } from "./warnings.ts";

export interface BufferedSinkOptions {
  /** Where batches go: PostgreSQL (manager-core), or the manager over HTTP (orchestrator-core). */
  writer: LogWriter;
  /** Where rows go that memory cannot hold, and where replayed rows come from. */
  spill: SpillStore;
  /** Rows per batch (default 500). */
  batchSize?: number;
  /** Batches in flight at once (default 2). */
  concurrency?: number;
  /** How long a partial batch waits for company before it is written (default 50 ms). */
  flushIntervalMs?: number;
  /**
   * Rows held in memory for the writer (default 10,000); beyond it rows go to the spill store
   * (through a queue of at most max(maxBuffered, 5000) rows waiting for the disk).
   */
  maxBuffered?: number;
  /** pino-compatible; failures are logged at warn (rate-limited), recovery at info. */
  logger?: MinimalLogger;
  /** A write that has not answered by then counts as failed (default 10 s); the rows are retried. */
  writeTimeoutMs?: number;
  /** `close()` gives the writer this long, then spills what is left (default 10 s). */
  closeTimeoutMs?: number;
  /** Retry backoff after a failure: doubles from `retryBaseMs` up to `retryMaxMs` (defaults 100 ms, 5 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** `SinkStats` plus the bytes of spilled rows waiting on disk to be replayed. */
export interface BufferedSinkStats extends SinkStats {
  spillBytes: number;
}

/** Rows on their way to the spill store are bounded by max(maxBuffered, this). */
const SPILL_QUEUE_MIN = 5000;

/**
 * The execution-log sink in front of any `LogWriter` (docs/design.md, "The
 * execution-log pipeline").
 *
 * - `write` is synchronous, never throws and never waits: it appends to a bounded in-memory
 *   queue. A background loop writes batches (up to `batchSize` rows, up to `concurrency`
 *   batches in flight) when a batch is full, or `flushIntervalMs` after the first row when
 *   idle; rows that arrive while batches are in flight form the next ones.
 * - A write that fails (error, or no answer within `writeTimeoutMs`) puts its batch back and
 *   is retried with exponential backoff; the failure is counted (`failed`, per attempt) and
 *   logged at warn. Once `maxBuffered` rows are in memory, further rows go to the spill store
 *   up to its byte cap, beyond which they are dropped and counted (`dropped`).
 * - Spilled rows (and those an earlier process left) are replayed once the writer answers
 *   again, a batch at a time, taking turns with the memory queue; a spill segment is deleted
 *   only after all its rows are stored.
 * - Rows the writer rejects (`RowsRejectedError`: they can never be stored) are dropped and
 *   counted; the rest of their batch is stored.
 * - `flush()` resolves once every row written before the call is stored, spilled or dropped:
 *   during an outage it spills the queue rather than wait. `close()` flushes within
 *   `closeTimeoutMs`, then spills whatever is left (a batch in flight included).
 */
export class BufferedLogSink implements ExecutionLogSink {
  readonly #o: Required<Omit<BufferedSinkOptions, "writer" | "spill" | "logger">>;
  readonly #writer: LogWriter;
  readonly #spill: SpillStore;
  readonly #logger: MinimalLogger | undefined;
  readonly #queue = new BatchQueue();
  readonly #spillQueue: SpillQueue;
  readonly #waiters = new FlushWaiters();
  readonly #backoff: Backoff;
  readonly #failures: RateLimitedWarning;
  readonly #drops: RateLimitedWarning;

  #seq = 0;
  #written = 0;
  #failed = 0;
  #dropped = 0;

  #draining = false;
  #kick: (() => void) | null = null;
  #replaying = false;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;
  #closing = false;
  #closed = false;
  #closePromise: Promise<void> | null = null;

  constructor(opts: BufferedSinkOptions) {
    this.#writer = opts.writer;
    this.#spill = opts.spill;
    this.#logger = opts.logger;
    this.#o = {
      batchSize: Math.max(1, opts.batchSize ?? 500),
      concurrency: Math.max(1, opts.concurrency ?? 2),
      flushIntervalMs: Math.max(0, opts.flushIntervalMs ?? 50),
      maxBuffered: Math.max(1, opts.maxBuffered ?? 10_000),
      writeTimeoutMs: opts.writeTimeoutMs ?? 10_000,
      closeTimeoutMs: opts.closeTimeoutMs ?? 10_000,
      retryBaseMs: opts.retryBaseMs ?? 100,
      retryMaxMs: opts.retryMaxMs ?? 5_000,
    };
    this.#backoff = new Backoff({ baseMs: this.#o.retryBaseMs, maxMs: this.#o.retryMaxMs });
    this.#failures = new RateLimitedWarning({
      logger: this.#logger,
      countField: "failures",
      message: "execution-log sink: write failed; keeping rows (memory, then spill file) and retrying",
    });
    this.#drops = new RateLimitedWarning({
      logger: this.#logger,
      countField: "dropped",
      message: "execution-log sink: dropped execution logs",
    });
    this.#spillQueue = new SpillQueue({
      store: this.#spill,
      limit: Math.max(this.#o.maxBuffered, SPILL_QUEUE_MIN),
      onDrop: (n, reason, extra) => this.#drop(n, reason, extra),
      onProgress: () => this.#settle(),
      // Spilled rows are replay work: make sure the loop comes back for them.
      onIdle: () => this.#wake(Math.max(this.#o.flushIntervalMs, this.#backoff.until - Date.now())),
    });
    void this.#spill.ready.then(() => {
      if (this.#spill.hasWork()) this.#wake(0);
    });
  }

  write(log: ExecutionLog): void {
    try {
      if (this.#closed || log === null || typeof log !== "object") {
        this.#drop(1, this.#closed ? "sink closed" : "not an execution log");
        return;
      }
      const e: Entry = { seq: ++this.#seq, log };
      if (this.#queue.size < this.#o.maxBuffered) {
        this.#queue.push(e);
        this.#wake(this.#queue.queued >= this.#o.batchSize ? 0 : this.#o.flushIntervalMs);
      } else if (!this.#spillQueue.offer(e)) {
        this.#drop(1, "memory and spill queue full");
      }
    } catch (err) {
      try {
        this.#drop(1, "write failed");
        safeLog(this.#logger, "error", { err }, "execution-log sink: write failed");
      } catch {
        // never throw to the caller
      }
    }
  }

  flush(): Promise<void> {
    const mark = this.#seq;
    if (this.#minUnsettled() > mark) return Promise.resolve();
    const settled = this.#waiters.wait(mark);
    this.#wake(0);
    return settled;
  }

  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  stats(): BufferedSinkStats {
    return {
      buffered: this.#queue.size + this.#spillQueue.size,
      written: this.#written,
      failed: this.#failed,
      dropped: this.#dropped,
      spilled: this.#spillQueue.spilled,
      spillBytes: this.#spill.bytes,
    };
  }

  // ---- the write loop ----------------------------------------------------------------

  /** Runs the loop in `delayMs` (0: at once), unless it runs already or sooner. */
  #wake(delayMs: number): void {
    if (this.#closed) return;
    if (this.#draining) {
      // The loop looks at the queue again before it stops; a full batch wakes it now.
      if (delayMs === 0) this.#kick?.();
      return;
    }
    const at = Date.now() + delayMs;
    if (this.#timer && this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#drain();
    }, delayMs);
    this.#timer.unref();
  }

  async #drain(): Promise<void> {
    if (this.#draining || this.#closed) return;
    this.#draining = true;
    let retryAt = 0;
    const running = new Set<Promise<void>>();
    const track = (p: Promise<void>) => {
      const q: Promise<void> = p
        .catch((err: unknown) => {
          safeLog(this.#logger, "error", { err }, "execution-log sink: unexpected error in the write loop");
        })
        .finally(() => running.delete(q));
      running.add(q);
    };
    try {
      await this.#spill.ready;
      let replayTurn = false;
      while (!this.#closed) {
        if (this.#backoff.waiting()) {
          // During an outage a flush or close does not wait for the writer: spill.
          if (this.#waiters.size > 0 || this.#closing) this.#spillQueue.stage(this.#queue.takeQueued());
          if (running.size > 0) {
            await this.#next(running);
            continue;
          }
          if (this.#queue.queued > 0 || this.#spill.hasWork()) retryAt = this.#backoff.until;
          break;
        }
        // Replay (one batch at a time) takes turns with the queue.
        if (
          !this.#replaying &&
          running.size < this.#o.concurrency &&
          this.#spill.hasWork() &&
          (replayTurn || this.#queue.queued === 0)
        ) {
          replayTurn = false;
          track(this.#replayOne());
        }
        // Full batches go as long as there is room in flight; a partial one only when idle
        // (rows that arrive meanwhile make the next batch bigger).
        while (
          running.size < this.#o.concurrency &&
          this.#queue.queued > 0 &&
          (this.#queue.queued >= this.#o.batchSize || running.size === 0)
        ) {
          replayTurn = true;
          track(this.#writeQueued());
        }
        if (running.size === 0) break;
        await this.#next(running);
      }
    } catch (err) {
      safeLog(this.#logger, "error", { err }, "execution-log sink: unexpected error in the write loop");
      retryAt = Date.now() + this.#o.retryMaxMs;
    } finally {
      this.#draining = false;
      this.#kick = null;
      this.#settle();
    }
    if (this.#closed) return;
    if (retryAt) this.#wake(Math.max(0, retryAt - Date.now()));
    else if (this.#queue.queued > 0) this.#wake(0);
  }

  /** Waits for a write in flight to end, or for a full batch to be queued. */
  #next(running: Set<Promise<void>>): Promise<unknown> {
    return Promise.race([
      ...running,
      new Promise<void>((resolve) => {
        this.#kick = resolve;
      }),
    ]);
  }

  async #writeQueued(): Promise<void> {
    const batch = this.#queue.take(this.#o.batchSize);
    let retry: readonly Entry[] = batch;
    try {
      const stored = await this.#store(batch.map((e) => e.log));
      if (stored !== null) {
        this.#written += stored;
        retry = [];
      }
    } finally {
      // After close the rows in flight were spilled already: a failure puts nothing back.
      this.#queue.settle(batch, this.#closed ? [] : retry);
    }
    this.#settle();
  }

  /** Replays one batch of spilled rows; it stays on disk (for the next turn) when the write fails. */
  async #replayOne(): Promise<void> {
    this.#replaying = true;
    try {
      const batch = await this.#spill.read(this.#o.batchSize);
      if (!batch) return;
      if (batch.logs.length > 0) {
        const stored = await this.#store(batch.logs);
        if (stored === null) return;
        this.#written += stored;
      }
      if (batch.bad > 0) this.#drop(batch.bad, "unreadable line in the spill file", { file: batch.segment.path });
      await this.#spill.advance(batch);
    } finally {
      this.#replaying = false;
    }
  }

  /**
   * One attempt at writing `logs`: the rows now stored (the rejected ones are dropped and
   * counted), or null on a transient failure (counted, backed off, warned about).
   */
  async #store(logs: ExecutionLog[]): Promise<number | null> {
    try {
      await withTimeout(() => this.#writer.writeBatch(logs), this.#o.writeTimeoutMs);
      this.#recovered();
      return logs.length;
    } catch (err) {
      if (err instanceof RowsRejectedError) {
        this.#recovered();
        const indexes = new Set(err.rejected.map((r) => r.index).filter((i) => i >= 0 && i < logs.length));
        const first = err.rejected[0];
        if (indexes.size > 0 && first) {
          this.#drop(indexes.size, "rejected by the store", {
            id: logs[first.index]?.id,
            rejection: first.reason,
            why: first.message.slice(0, 300),
          });
        }
        return logs.length - indexes.size;
      }
      const healthy = this.#backoff.failures === 0;
      this.#failed++;
      this.#backoff.fail();
      this.#failures.note(1, { err: errorSummary(err), ...this.stats() }, healthy);
      return null;
    }
  }

  #recovered(): void {
    if (!this.#backoff.succeed()) return;
    const s = this.stats();
    safeLog(
      this.#logger,
      "info",
      { buffered: s.buffered, spillBytes: s.spillBytes, failed: s.failed },
      "execution-log sink: writes succeed again",
    );
  }

  // ---- flush bookkeeping and close -----------------------------------------------------

  /** The smallest sequence number not yet stored, spilled or dropped (Infinity: none). */
  #minUnsettled(): number {
    return Math.min(this.#queue.minSeq(), this.#spillQueue.minSeq());
  }

  #settle(): void {
    if (this.#waiters.size > 0) this.#waiters.settle(this.#minUnsettled());
  }

  async #close(): Promise<void> {
    this.#closing = true;
    const deadline = Date.now() + this.#o.closeTimeoutMs;
    // Rows may still arrive while closing (requests finishing): flush until all are settled.
    while (this.#minUnsettled() <= this.#seq && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.flush(),
        new Promise<void>((r) => {
          timer = setTimeout(r, Math.max(0, deadline - Date.now()));
        }),
      ]);
      clearTimeout(timer);
    }
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // Past the deadline: whatever is still in memory (a batch in flight too) goes to disk;
    // it is replayed, idempotently, at the next start.
    this.#spillQueue.stage(this.#queue.takeAll());
    await this.#spillQueue.idle();
    await this.#spill.close();
    this.#waiters.resolveAll();
  }

  #drop(n: number, reason: string, extra: object = {}): void {
    this.#dropped += n;
    this.#drops.note(n, { reason, ...extra });
  }
}
