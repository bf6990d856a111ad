/**
 * Exponential backoff with jitter: after the n-th failure in a row the next attempt waits
 * `baseMs · 2^(n-1)`, capped at `maxMs`, times a random factor in [0.5, 1) so that many
 * writers failing together do not retry in step.
 */
export class Backoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #failures = 0;
  #until = 0;

  constructor(o: { baseMs: number; maxMs: number; random?: () => number }) {
    this.#baseMs = o.baseMs;
    this.#maxMs = o.maxMs;
    this.#random = o.random ?? Math.random;
  }

  /** Failures since the last success. */
  get failures(): number {
    return this.#failures;
  }

  /** Epoch milliseconds before which no attempt should be made (0 after a success). */
  get until(): number {
    return this.#until;
  }

  waiting(now: number = Date.now()): boolean {
    return now < this.#until;
  }

  /** Records a failure; returns the chosen delay. */
  fail(now: number = Date.now()): number {
    this.#failures++;
    const full = Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(20, this.#failures - 1));
    const delay = full * (0.5 + this.#random() / 2);
    this.#until = now + delay;
    return delay;
  }

  /** Records a success; true when it ends a run of failures (a recovery worth logging). */
  succeed(): boolean {
    const recovered = this.#failures > 0;
    this.#failures = 0;
    this.#until = 0;
    return recovered;
  }
}
