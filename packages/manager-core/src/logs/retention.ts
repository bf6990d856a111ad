import { type MinimalLogger, safeLog } from "@picloud/shared";

export interface RetentionJobOptions {
  repository: { deleteOlderThan(cutoff: Date, batchSize: number): Promise<number> };
  /** Rows older than this are deleted. */
  maxAgeMs: number;
  /** Time between passes (default 10 minutes). The first pass runs at `start()`. */
  intervalMs?: number;
  /** Rows per DELETE statement (default 1000): short transactions, short locks. */
  batchSize?: number;
  /** Pause between two batches of one pass (default 50 ms), so a big backlog does not hog the database. */
  pauseMs?: number;
  logger?: MinimalLogger;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * Deletes execution logs older than a configured age in the background, in small
 * primary-key batches (`id < uuid(cutoff)`), one pass every `intervalMs`.
 */
export class RetentionJob {
  readonly #o: Required<Omit<RetentionJobOptions, "logger">> & { logger: MinimalLogger | undefined };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | null = null;
  #stopped = true;

  constructor(opts: RetentionJobOptions) {
    this.#o = {
      repository: opts.repository,
      maxAgeMs: opts.maxAgeMs,
      intervalMs: opts.intervalMs ?? 10 * 60_000,
      batchSize: opts.batchSize ?? 1000,
      pauseMs: opts.pauseMs ?? 50,
      logger: opts.logger,
      now: opts.now ?? Date.now,
    };
  }

  /** Runs a pass now and then every `intervalMs`. A non-positive or non-finite age disables the job. */
  start(): void {
    if (!this.#stopped) return;
    if (!(this.#o.maxAgeMs > 0) || !Number.isFinite(this.#o.maxAgeMs)) return;
    this.#stopped = false;
    this.#tick();
  }

  /** Stops the schedule and waits for a running pass to end (it stops after its current batch). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }

  /** One pass: deletes batches until one comes back short. Resolves to the rows deleted. */
  runOnce(): Promise<number> {
    return this.#run(false);
  }

  #run(interruptible: boolean): Promise<number> {
    if (this.#running) return this.#running;
    const p = this.#pass(interruptible).finally(() => {
      this.#running = null;
    });
    this.#running = p;
    return p;
  }

  #tick(): void {
    this.#run(true)
      .catch((err: unknown) => {
        safeLog(this.#o.logger, "warn", { err }, "execution-log retention pass failed; retrying at the next interval");
      })
      .finally(() => {
        if (this.#stopped) return;
        this.#timer = setTimeout(() => this.#tick(), this.#o.intervalMs);
        this.#timer.unref();
      });
  }

  async #pass(interruptible: boolean): Promise<number> {
    const cutoff = new Date(this.#o.now() - this.#o.maxAgeMs);
    const { batchSize, pauseMs, repository } = this.#o;
    let total = 0;
    for (;;) {
      const n = await repository.deleteOlderThan(cutoff, batchSize);
      total += n;
      if (n < batchSize) break;
      // Between batches: give way to other queries, and honour stop().
      if (interruptible && this.#stopped) break;
      await new Promise((r) => setTimeout(r, pauseMs).unref());
    }
    if (total > 0) {
      safeLog(this.#o.logger, "info", { deleted: total, cutoff: cutoff.toISOString() }, "execution-log retention");
    }
    return total;
  }
}
