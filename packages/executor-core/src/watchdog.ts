import type ivm from "isolated-vm";
import type { KillReason } from "./run-result.ts";

/**
 * The time budgets of one run, enforced from the host (docs/executor.md, "Budgets and
 * outcomes"): a wall-clock timer to the invocation's deadline, and the isolate's CPU time
 * (`isolate.cpuTime`) polled on a timer scheduled for what is left of its budget, checks at
 * most 50 ms apart. Either calls `kill` with its reason; the caller disposes the isolate.
 */
export class Watchdog {
  readonly #isolate: ivm.Isolate;
  readonly #cpuBudgetMs: number;
  readonly #deadline: number;
  readonly #kill: (reason: KillReason) => void;
  readonly #cpu0: bigint;
  #cpuLast = 0n;
  readonly #wallTimer: NodeJS.Timeout;
  #cpuTimer: NodeJS.Timeout | undefined;

  constructor(isolate: ivm.Isolate, cpuBudgetMs: number, deadline: number, kill: (reason: KillReason) => void) {
    this.#isolate = isolate;
    this.#cpuBudgetMs = cpuBudgetMs;
    this.#deadline = deadline;
    this.#kill = kill;
    this.#cpu0 = isolate.cpuTime;
    this.#wallTimer = setTimeout(() => kill("wall_time"), Math.max(0, deadline - Date.now()));
    this.#cpuTimer = setTimeout(() => this.#checkCpu(), Math.max(2, Math.min(50, cpuBudgetMs)));
  }

  /** CPU time of this run so far, in ms (the last reading once the isolate is gone). */
  cpuMs(): number {
    if (!this.#isolate.isDisposed) this.#cpuLast = this.#isolate.cpuTime - this.#cpu0;
    return Number(this.#cpuLast) / 1e6;
  }

  /**
   * The timeout of a synchronous call into the isolate, and the budget that runs out first:
   * host timers cannot fire while such a call holds the thread, so its timeout stands in.
   */
  syncLimit(): { timeoutMs: number; reason: KillReason } {
    const wallLeft = this.#deadline - Date.now();
    const cpuLeft = this.#cpuBudgetMs - this.cpuMs();
    return {
      timeoutMs: Math.max(1, Math.ceil(Math.min(wallLeft, cpuLeft))),
      reason: cpuLeft <= wallLeft ? "cpu_time" : "wall_time",
    };
  }

  /** Stops the timers (the run is over). */
  stop(): void {
    clearTimeout(this.#wallTimer);
    clearTimeout(this.#cpuTimer);
  }

  #checkCpu(): void {
    const used = this.cpuMs();
    if (used >= this.#cpuBudgetMs) this.#kill("cpu_time");
    else this.#cpuTimer = setTimeout(() => this.#checkCpu(), Math.max(2, Math.min(50, this.#cpuBudgetMs - used)));
  }
}
