import type ivm from "isolated-vm";

/**
 * Reads an isolate's heap after its runs (docs/executor.md, "Budgets and outcomes": Heap).
 * The read is a synchronous call that waits for the isolate's lock (~12 µs), so not after
 * every run of a hot isolate: always after its first run, after every run once it uses over half its
 * limit, and otherwise every 8th run or 250 ms (a heap never jumps past its limit unseen:
 * that is isolated-vm's memoryLimit kill).
 */
export class HeapMonitor {
  readonly #limitBytes: number;
  #runs = 0;
  #checkedAt = 0;
  #high = false;
  #bytes = 0;

  constructor(memoryMb: number) {
    this.#limitBytes = memoryMb * 1024 * 1024;
  }

  /** What the isolate holds in RAM as last measured: committed pages plus external memory. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * After a run (at `now`, a `performance.now()` reading): measures the heap when due. False
   * when the isolate should be retired: it is close to its limit (the next request would
   * inherit the problem) or cannot be read.
   */
  afterRun(isolate: ivm.Isolate, now = performance.now()): boolean {
    if (!this.#due(now)) return true;
    try {
      const h = isolate.getHeapStatisticsSync();
      // Committed pages, not the reserved heap (an idle hello-world isolate has ~1.6 MB
      // physical of ~3 MB total heap size).
      this.#bytes = h.total_physical_size + h.externally_allocated_size;
      const used = h.used_heap_size + h.externally_allocated_size;
      this.#high = used > this.#limitBytes * 0.5;
      return used <= this.#limitBytes * 0.9;
    } catch {
      return false;
    }
  }

  #due(now: number): boolean {
    this.#runs++;
    if (this.#runs === 1 || this.#high || this.#runs % 8 === 0 || now - this.#checkedAt >= 250) {
      this.#checkedAt = now;
      return true;
    }
    return false;
  }
}
