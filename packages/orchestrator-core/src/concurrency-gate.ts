import { PiCloudError } from "@picloud/shared";

/**
 * Caps executions in flight, globally and per script. Overflow is refused at once with
 * 503 and Retry-After: no queue, so a burst cannot build unbounded latency or memory.
 */
export class ConcurrencyGate {
  readonly #global: number;
  readonly #perScript: number;
  readonly #byScript = new Map<string, number>();
  #inFlight = 0;
  readonly onReject: (scope: "global" | "script") => void;

  constructor(opts: { global: number; perScript: number; onReject?: (scope: "global" | "script") => void }) {
    this.#global = opts.global;
    this.#perScript = opts.perScript;
    this.onReject = opts.onReject ?? (() => {});
  }

  /** Takes a slot or throws `service_unavailable`; the returned function gives it back (once). */
  acquire(scriptId: string): () => void {
    const mine = this.#byScript.get(scriptId) ?? 0;
    if (this.#inFlight >= this.#global) {
      this.onReject("global");
      throw busy("the server is at its concurrency limit");
    }
    if (mine >= this.#perScript) {
      this.onReject("script");
      throw busy("this script is at its concurrency limit");
    }
    this.#inFlight++;
    this.#byScript.set(scriptId, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight--;
      const n = (this.#byScript.get(scriptId) ?? 1) - 1;
      if (n <= 0) this.#byScript.delete(scriptId);
      else this.#byScript.set(scriptId, n);
    };
  }

  inFlight(): number {
    return this.#inFlight;
  }
}

function busy(message: string): PiCloudError {
  return new PiCloudError("service_unavailable", message, { headers: { "Retry-After": "1" } });
}
