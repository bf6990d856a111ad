interface Waiter {
  mark: number;
  resolve: () => void;
}

/**
 * The promises of `flush()`. Rows carry increasing sequence numbers; a waiter holds the last
 * number written before its call and resolves once every row up to it is settled (stored,
 * spilled or dropped), that is once the smallest unsettled number is above its mark.
 */
export class FlushWaiters {
  #waiters: Waiter[] = [];

  get size(): number {
    return this.#waiters.length;
  }

  wait(mark: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push({ mark, resolve });
    });
  }

  /** Resolves the waiters whose rows are all settled: every mark below `minUnsettled`. */
  settle(minUnsettled: number): void {
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.mark < minUnsettled) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
  }

  /** Resolves everyone (the sink is closed: what was not stored is spilled or counted as dropped). */
  resolveAll(): void {
    for (const w of this.#waiters) w.resolve();
    this.#waiters = [];
  }
}
