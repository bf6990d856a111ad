import { mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { ExecutionLog, ExecutionLogSink, SinkStats } from "@picloud/shared";
import { serializeLog } from "../logs/execution-logs-repository.ts";
import { type MinimalLogger, safeLog } from "../logs/retention.ts";

/** What the sink needs of the repository: an idempotent (by id) batch insert. */
export interface ExecutionLogWriter {
  insertBatch(logs: ExecutionLog[]): Promise<number>;
}

export interface PostgresSinkOptions {
  repository: ExecutionLogWriter;
  /** The spill files live in `<dataDir>/sink-spill/`. */
  dataDir: string;
  /** Rows per INSERT (default 500). */
  batchSize?: number;
  /** Batches in flight at once, each on its own connection (default 2). */
  concurrency?: number;
  /** How long a partial batch waits for company before it is written (default 50 ms). */
  flushIntervalMs?: number;
  /**
   * Rows held in memory for the database (default 10,000); beyond it rows go to the spill
   * file (through a queue of at most max(maxBuffered, 5000) rows waiting for the disk).
   */
  maxBuffered?: number;
  /** Bytes of spill files on disk (default 256 MiB); beyond it rows are dropped and counted. */
  maxSpillBytes?: number;
  /** pino-compatible; failures are logged at warn (rate-limited), recovery at info. */
  logger?: MinimalLogger;
  /** A write that has not answered by then counts as failed (default 10 s); the rows are retried. */
  writeTimeoutMs?: number;
  /** `close()` gives the database this long, then spills what is left (default 10 s). */
  closeTimeoutMs?: number;
  /** Retry backoff after a failure: doubles from `retryBaseMs` up to `retryMaxMs` (defaults 100 ms, 5 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** The spill file is rotated (and can be replayed and deleted) every this many bytes (default 8 MiB). */
  spillSegmentBytes?: number;
}

/** `SinkStats` plus the bytes of spilled rows waiting on disk to be replayed. */
export interface PostgresSinkStats extends SinkStats {
  spillBytes: number;
}

interface Entry {
  seq: number;
  log: ExecutionLog;
}

interface Waiter {
  marker: number;
  resolve: () => void;
}

interface ReplayFile {
  path: string;
  size: number;
  /** Bytes already stored in the database (in this process's life; a restart replays from 0, idempotently). */
  offset: number;
}

const SPILL_DIR = "sink-spill";
const ACTIVE = "active.ndjson";
const WARN_EVERY_MS = 10_000;
/** Rows on their way to the spill file are bounded by max(maxBuffered, this). */
const SPILL_QUEUE_MIN = 5000;

/**
 * The execution-log sink over PostgreSQL (DESIGN §3; issue 4 point 3).
 *
 * - `write` is synchronous, never throws and never waits: it appends to a bounded
 *   in-memory queue. A background loop writes batches (up to `batchSize` rows per INSERT,
 *   up to `concurrency` INSERTs in flight) when a batch is full, or `flushIntervalMs` after
 *   the first row when idle; rows that arrive while batches are in flight form the next ones.
 * - When the database fails (error, refusal, or no answer within `writeTimeoutMs`), the
 *   batch goes back to the queue and is retried with exponential backoff; the failure is
 *   counted (`failed`, per attempt) and logged at warn. Once `maxBuffered` rows are in
 *   memory, further rows are appended to an NDJSON spill file in `<dataDir>/sink-spill/`
 *   (one `ExecutionLog` per line) up to `maxSpillBytes`, beyond which they are dropped and
 *   counted (`dropped`).
 * - Spill files are replayed once the database answers again, in batches through the same
 *   idempotent insert (`ON CONFLICT (id) DO NOTHING`); a file is deleted only after all its
 *   rows are stored, so a crash mid-replay replays it again without duplicating a row.
 *   Spill files left by an earlier process are replayed at start.
 * - A row the database refuses as data (SQLSTATE class 22 or 23) is isolated by splitting
 *   its batch, dropped and counted, so one bad row never blocks the others.
 * - `flush()` resolves once every row written before the call is stored or spilled: during
 *   an outage it spills the queue rather than wait. `close()` flushes within
 *   `closeTimeoutMs`, then spills whatever is left (an in-flight batch included).
 */
export class PostgresExecutionLogSink implements ExecutionLogSink {
  readonly #o: Required<Omit<PostgresSinkOptions, "logger">> & { logger: MinimalLogger | undefined };
  readonly #dir: string;

  #seq = 0;
  #queue: Entry[] = [];
  readonly #inflight = new Set<Entry[]>();
  #inflightRows = 0;
  #kick: (() => void) | null = null;
  #replaying = false;
  #staging: Entry[] = [];
  #spilling: Entry[] | null = null;
  readonly #poisoned = new WeakSet<ExecutionLog>();

  #written = 0;
  #failed = 0;
  #dropped = 0;
  #spilled = 0;

  #draining = false;
  #spillRunning: Promise<void> | null = null;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;
  #backoffUntil = 0;
  #attempt = 0;
  #healthy = true;
  #waiters: Waiter[] = [];
  #closing = false;
  #closed = false;
  #closePromise: Promise<void> | null = null;

  #ready: Promise<void>;
  #spillUsable = true;
  #spillBytes = 0;
  #active: { fh: import("node:fs/promises").FileHandle; bytes: number } | null = null;
  #replay: ReplayFile[] = [];
  #rotations = 0;
  #disk: Promise<unknown> = Promise.resolve();

  #lastFailWarn = 0;
  #failsSinceWarn = 0;
  #lastDropWarn = 0;
  #dropsSinceWarn = 0;

  constructor(opts: PostgresSinkOptions) {
    const maxSpillBytes = opts.maxSpillBytes ?? 256 * 1024 * 1024;
    this.#o = {
      repository: opts.repository,
      dataDir: opts.dataDir,
      batchSize: Math.max(1, opts.batchSize ?? 500),
      concurrency: Math.max(1, opts.concurrency ?? 2),
      flushIntervalMs: Math.max(0, opts.flushIntervalMs ?? 50),
      maxBuffered: Math.max(1, opts.maxBuffered ?? 10_000),
      maxSpillBytes,
      logger: opts.logger,
      writeTimeoutMs: opts.writeTimeoutMs ?? 10_000,
      closeTimeoutMs: opts.closeTimeoutMs ?? 10_000,
      retryBaseMs: opts.retryBaseMs ?? 100,
      retryMaxMs: opts.retryMaxMs ?? 5_000,
      spillSegmentBytes: Math.max(1, opts.spillSegmentBytes ?? Math.min(8 * 1024 * 1024, Math.ceil(maxSpillBytes / 4))),
    };
    this.#dir = join(opts.dataDir, SPILL_DIR);
    this.#ready = this.#init();
  }

  write(log: ExecutionLog): void {
    try {
      if (this.#closed || log === null || typeof log !== "object") {
        this.#drop(1, this.#closed ? "sink closed" : "not an execution log");
        return;
      }
      const e: Entry = { seq: ++this.#seq, log };
      if (this.#queue.length + this.#inflightRows < this.#o.maxBuffered) {
        this.#queue.push(e);
        if (this.#queue.length >= this.#o.batchSize) this.#wake(0);
        else this.#wake(this.#o.flushIntervalMs);
      } else if (this.#staging.length < Math.max(this.#o.maxBuffered, SPILL_QUEUE_MIN)) {
        this.#staging.push(e);
        this.#kickSpill();
      } else {
        this.#drop(1, "memory and spill queue full");
      }
    } catch (err) {
      try {
        this.#drop(1, "write failed");
        safeLog(this.#o.logger, "error", { err }, "execution-log sink: write failed");
      } catch {
        // never throw to the caller
      }
    }
  }

  flush(): Promise<void> {
    const marker = this.#seq;
    if (this.#minUnsettled() > marker) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.push({ marker, resolve });
      this.#wake(0);
    });
  }

  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  stats(): PostgresSinkStats {
    return {
      buffered: this.#queue.length + this.#inflightRows + this.#staging.length + (this.#spilling?.length ?? 0),
      written: this.#written,
      failed: this.#failed,
      dropped: this.#dropped,
      spilled: this.#spilled,
      spillBytes: this.#spillBytes,
    };
  }

  // ---- the database loop -------------------------------------------------------------

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
          safeLog(this.#o.logger, "error", { err }, "execution-log sink: unexpected error in the write loop");
        })
        .finally(() => running.delete(q));
      running.add(q);
    };
    try {
      await this.#ready;
      let replayTurn = false;
      while (!this.#closed) {
        if (Date.now() < this.#backoffUntil) {
          // During an outage a flush or close does not wait for the database: spill.
          if (this.#waiters.length > 0 || this.#closing) this.#spillQueue();
          if (running.size > 0) {
            await this.#next(running);
            continue;
          }
          if (this.#queue.length > 0 || this.#hasReplayWork()) retryAt = this.#backoffUntil;
          break;
        }
        // Replay (one batch at a time) takes turns with the queue.
        if (
          !this.#replaying &&
          running.size < this.#o.concurrency &&
          this.#hasReplayWork() &&
          (replayTurn || this.#queue.length === 0)
        ) {
          replayTurn = false;
          track(this.#replayOne());
        }
        // Full batches go as long as there is room in flight; a partial one only when idle
        // (rows that arrive meanwhile make the next batch bigger).
        while (
          running.size < this.#o.concurrency &&
          this.#queue.length > 0 &&
          (this.#queue.length >= this.#o.batchSize || running.size === 0)
        ) {
          replayTurn = true;
          track(this.#writeQueued());
        }
        if (running.size === 0) break;
        await this.#next(running);
      }
    } catch (err) {
      safeLog(this.#o.logger, "error", { err }, "execution-log sink: unexpected error in the write loop");
      retryAt = Date.now() + this.#o.retryMaxMs;
    } finally {
      this.#draining = false;
      this.#kick = null;
      this.#settle();
    }
    if (this.#closed) return;
    if (retryAt) this.#wake(Math.max(0, retryAt - Date.now()));
    else if (this.#queue.length > 0) this.#wake(0);
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
    const batch = this.#queue.splice(0, this.#o.batchSize);
    this.#inflight.add(batch);
    this.#inflightRows += batch.length;
    let ok = false;
    try {
      ok = await this.#store(batch.map((e) => e.log));
    } finally {
      this.#inflight.delete(batch);
      this.#inflightRows -= batch.length;
    }
    if (ok) this.#written += batch.filter((e) => !this.#poisoned.has(e.log)).length;
    else this.#queue.unshift(...batch.filter((e) => !this.#poisoned.has(e.log)));
    this.#settle();
  }

  /** Stores rows; true when they are all in the database (or dropped as bad data). */
  async #store(logs: ExecutionLog[]): Promise<boolean> {
    try {
      await this.#insertIsolating(logs.filter((l) => !this.#poisoned.has(l)));
      if (!this.#healthy) {
        safeLog(
          this.#o.logger,
          "info",
          { buffered: this.stats().buffered, spillBytes: this.#spillBytes, failed: this.#failed },
          "execution-log sink: database writes succeed again",
        );
      }
      this.#healthy = true;
      this.#attempt = 0;
      this.#backoffUntil = 0;
      return true;
    } catch (err) {
      this.#failed++;
      this.#attempt++;
      const delay = Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** Math.min(20, this.#attempt - 1));
      this.#backoffUntil = Date.now() + delay * (0.5 + Math.random() / 2);
      this.#failsSinceWarn++;
      const now = Date.now();
      if (this.#healthy || now - this.#lastFailWarn >= WARN_EVERY_MS) {
        safeLog(
          this.#o.logger,
          "warn",
          { err: errorSummary(err), failures: this.#failsSinceWarn, ...this.stats() },
          "execution-log sink: database write failed; keeping rows (memory, then spill file) and retrying",
        );
        this.#lastFailWarn = now;
        this.#failsSinceWarn = 0;
      }
      this.#healthy = false;
      return false;
    }
  }

  /** Inserts; a batch the database refuses as data is split until the bad rows are found and dropped. */
  async #insertIsolating(logs: ExecutionLog[]): Promise<void> {
    if (logs.length === 0) return;
    try {
      await this.#insertWithTimeout(logs);
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (logs.length === 1) {
        const bad = logs[0]!;
        this.#poisoned.add(bad);
        this.#drop(1, "refused by the database", { id: bad.id, err: errorSummary(err) });
        return;
      }
      const mid = logs.length >> 1;
      await this.#insertIsolating(logs.slice(0, mid));
      await this.#insertIsolating(logs.slice(mid));
    }
  }

  #insertWithTimeout(logs: ExecutionLog[]): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const insert = (async () => this.#o.repository.insertBatch(logs))();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`database write timed out after ${this.#o.writeTimeoutMs} ms`)),
        this.#o.writeTimeoutMs,
      );
      timer.unref();
    });
    insert.catch(() => {}); // a late failure after a timeout is not unhandled
    return Promise.race([insert, timeout]).finally(() => clearTimeout(timer));
  }

  // ---- flush bookkeeping ------------------------------------------------------------

  /** The smallest sequence number not yet stored, spilled or dropped (Infinity: none). */
  #minUnsettled(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const list of [this.#queue, ...this.#inflight, this.#staging, this.#spilling]) {
      if (!list) continue;
      for (const e of list) if (e.seq < min) min = e.seq;
    }
    return min;
  }

  #settle(): void {
    if (this.#waiters.length === 0) return;
    const min = this.#minUnsettled();
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.marker < min) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
  }

  // ---- spill ---------------------------------------------------------------------------

  /** Moves the whole queue to the spill file (flush or close during an outage). */
  #spillQueue(): void {
    if (this.#queue.length === 0) return;
    for (const e of this.#queue) this.#staging.push(e);
    this.#queue = [];
    this.#kickSpill();
  }

  #kickSpill(): void {
    if (this.#spillRunning) return;
    this.#spillRunning = this.#spillLoop().finally(() => {
      this.#spillRunning = null;
      if (this.#staging.length > 0) this.#kickSpill();
    });
  }

  async #spillLoop(): Promise<void> {
    await this.#ready;
    while (this.#staging.length > 0) {
      const chunk = this.#staging.splice(0, 1000);
      this.#spilling = chunk;
      try {
        await this.#append(chunk);
      } catch (err) {
        this.#drop(chunk.length, "spill file not writable", { err: errorSummary(err) });
      }
      this.#spilling = null;
      this.#settle();
    }
    // Spilled rows are replay work: make sure the loop comes back for them.
    this.#wake(Math.max(this.#o.flushIntervalMs, this.#backoffUntil - Date.now()));
  }

  async #append(chunk: Entry[]): Promise<void> {
    if (!this.#spillUsable) {
      this.#drop(chunk.length, "spill directory not usable");
      return;
    }
    const lines: string[] = [];
    let bytes = 0;
    let over = 0;
    for (const e of chunk) {
      const line = `${serializeLog(e.log)}\n`;
      const n = Buffer.byteLength(line);
      if (this.#spillBytes + bytes + n > this.#o.maxSpillBytes) {
        over++;
        continue;
      }
      lines.push(line);
      bytes += n;
    }
    if (over > 0) this.#drop(over, "spill file full");
    if (lines.length === 0) return;
    this.#spillBytes += bytes; // reserved before the await, so concurrent appends respect the cap
    try {
      await this.#onDisk(async () => {
        if (!this.#active) {
          this.#active = { fh: await open(join(this.#dir, ACTIVE), "a"), bytes: 0 };
        }
        await this.#active.fh.appendFile(lines.join(""));
        this.#active.bytes += bytes;
        if (this.#active.bytes >= this.#o.spillSegmentBytes) await this.#rotate();
      });
    } catch (err) {
      this.#spillBytes -= bytes;
      throw err;
    }
    this.#spilled += lines.length;
  }

  /** Serializes spill-file operations (append, rotate, delete). */
  #onDisk<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#disk.then(op, op);
    this.#disk = run.catch(() => {});
    return run;
  }

  /** Closes the active file and queues it for replay (call inside #onDisk). */
  async #rotate(): Promise<void> {
    if (!this.#active) return;
    const { fh, bytes } = this.#active;
    this.#active = null;
    await fh.close();
    const path = join(this.#dir, `replay-${Date.now()}-${String(++this.#rotations).padStart(6, "0")}.ndjson`);
    await rename(join(this.#dir, ACTIVE), path);
    this.#replay.push({ path, size: bytes, offset: 0 });
  }

  async #init(): Promise<void> {
    try {
      await mkdir(this.#dir, { recursive: true });
      const names = (await readdir(this.#dir)).filter((n) => n.startsWith("replay-") && n.endsWith(".ndjson")).sort();
      for (const n of names) {
        const path = join(this.#dir, n);
        this.#replay.push({ path, size: (await stat(path)).size, offset: 0 });
      }
      const active = join(this.#dir, ACTIVE);
      const size = await stat(active).then(
        (s) => s.size,
        () => -1,
      );
      if (size >= 0) {
        const path = join(this.#dir, `replay-${Date.now()}-000000.ndjson`);
        await rename(active, path);
        this.#replay.push({ path, size, offset: 0 });
      }
      this.#spillBytes = this.#replay.reduce((s, f) => s + f.size, 0);
      if (this.#replay.length > 0) {
        safeLog(
          this.#o.logger,
          "info",
          { files: this.#replay.length, bytes: this.#spillBytes },
          "execution-log sink: replaying rows spilled by an earlier run",
        );
        queueMicrotask(() => this.#wake(0));
      }
    } catch (err) {
      this.#spillUsable = false;
      safeLog(
        this.#o.logger,
        "warn",
        { err: errorSummary(err), dir: this.#dir },
        "execution-log sink: spill directory not usable; rows beyond the memory buffer will be dropped",
      );
    }
  }

  // ---- replay --------------------------------------------------------------------------

  #hasReplayWork(): boolean {
    return this.#replay.length > 0 || (this.#active !== null && this.#active.bytes > 0);
  }

  /** Replays one batch of the oldest spill file; true when it is stored (or nothing to do). */
  async #replayOne(): Promise<void> {
    this.#replaying = true;
    try {
      await this.#replayBatch();
    } finally {
      this.#replaying = false;
    }
  }

  async #replayBatch(): Promise<boolean> {
    if (this.#replay.length === 0) await this.#onDisk(() => this.#rotate());
    const file = this.#replay[0];
    if (!file) return true;
    let batch: { logs: ExecutionLog[]; next: number; bad: number };
    try {
      batch = await readBatch(file.path, file.offset, this.#o.batchSize);
    } catch (err) {
      // Unreadable (deleted by hand?): give up on this file.
      this.#replay.shift();
      this.#spillBytes -= file.size;
      safeLog(
        this.#o.logger,
        "warn",
        { err: errorSummary(err), file: file.path },
        "execution-log sink: spill file lost",
      );
      return true;
    }
    if (batch.bad > 0) this.#drop(batch.bad, "unreadable line in the spill file", { file: file.path });
    if (batch.logs.length > 0) {
      const ok = await this.#store(batch.logs);
      if (!ok) return false;
      this.#written += batch.logs.filter((l) => !this.#poisoned.has(l)).length;
    }
    file.offset = batch.next;
    if (batch.next >= file.size || (batch.logs.length === 0 && batch.bad === 0)) {
      // Every row of this file is stored: only now does it go.
      this.#replay.shift();
      this.#spillBytes -= file.size;
      await this.#onDisk(() => unlink(file.path)).catch(() => {});
    }
    return true;
  }

  // ---- close and counters ----------------------------------------------------------

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
    // Past the deadline: whatever is still in memory (an in-flight batch too) goes to disk;
    // it is replayed, idempotently, at the next start.
    const rest = [...[...this.#inflight].flat(), ...this.#queue];
    this.#queue = [];
    for (const e of rest) this.#staging.push(e);
    if (this.#staging.length > 0) this.#kickSpill();
    while (this.#spillRunning) await this.#spillRunning;
    await this.#onDisk(async () => {
      const a = this.#active;
      this.#active = null;
      await a?.fh.close();
    }).catch(() => {});
    for (const w of this.#waiters) w.resolve();
    this.#waiters = [];
  }

  #drop(n: number, why: string, extra: object = {}): void {
    this.#dropped += n;
    this.#dropsSinceWarn += n;
    const now = Date.now();
    if (now - this.#lastDropWarn >= WARN_EVERY_MS) {
      safeLog(
        this.#o.logger,
        "warn",
        { dropped: this.#dropsSinceWarn, reason: why, ...extra },
        "execution-log sink: dropped execution logs",
      );
      this.#lastDropWarn = now;
      this.#dropsSinceWarn = 0;
    }
  }
}

/** Reads up to `maxLines` NDJSON rows from `offset`; `next` is the offset after the last line read. */
async function readBatch(
  path: string,
  offset: number,
  maxLines: number,
): Promise<{ logs: ExecutionLog[]; next: number; bad: number }> {
  const fh = await open(path, "r");
  try {
    let size = 1024 * 1024;
    for (;;) {
      const buf = Buffer.allocUnsafe(size);
      const { bytesRead } = await fh.read(buf, 0, size, offset);
      if (bytesRead === 0) return { logs: [], next: offset, bad: 0 };
      const data = buf.subarray(0, bytesRead);
      const lines: string[] = [];
      let pos = 0;
      while (lines.length < maxLines) {
        const nl = data.indexOf(10, pos);
        if (nl < 0) break;
        lines.push(data.toString("utf8", pos, nl));
        pos = nl + 1;
      }
      if (lines.length === 0) {
        if (bytesRead < size) {
          // A last line without its newline (a crash mid-append): use it if it parses.
          lines.push(data.toString("utf8"));
          pos = bytesRead;
        } else {
          size *= 2; // one line longer than the buffer
          continue;
        }
      }
      const logs: ExecutionLog[] = [];
      let bad = 0;
      for (const line of lines) {
        if (line.trim() === "") continue;
        try {
          const v = JSON.parse(line) as ExecutionLog;
          if (v && typeof v === "object" && typeof v.id === "string") logs.push(v);
          else bad++;
        } catch {
          bad++;
        }
      }
      return { logs, next: offset + pos, bad };
    }
  } finally {
    await fh.close();
  }
}

/** SQLSTATE of an error or of one of its causes (drizzle wraps driver errors). */
function sqlState(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e && typeof e === "object"; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Data exceptions (22) and integrity violations (23): retrying the same row cannot help. */
function isDataError(err: unknown): boolean {
  const s = sqlState(err);
  return s !== undefined && (s.startsWith("22") || s.startsWith("23"));
}

function errorSummary(err: unknown): { name?: string; message: string; code?: string } {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    const code = sqlState(err) ?? (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: cause ? `${err.message.slice(0, 200)}: ${cause}` : err.message.slice(0, 500),
      ...(typeof code === "string" ? { code } : {}),
    };
  }
  return { message: String(err) };
}
