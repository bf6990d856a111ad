/**
 * The drain state a service's parts read while it runs: `/ready` answers 503 once
 * `draining()`, and every long-lived stream (the live log stream, the cluster change
 * stream, an executor's RPC connections) ends when `signal` aborts. One signal for all of
 * them: that is how a service ends its streams.
 */
export class Drain {
  #draining = false;
  readonly #abort = new AbortController();
  readonly draining = (): boolean => this.#draining;
  get signal(): AbortSignal {
    return this.#abort.signal;
  }
  start(): void {
    this.#draining = true;
    this.#abort.abort();
  }
}
