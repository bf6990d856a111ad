import ivm from "isolated-vm";
import { afterEach, describe, expect, it } from "vitest";
import { HeapMonitor } from "./heap-monitor.ts";
import type { KillReason } from "./run-result.ts";
import { Watchdog } from "./watchdog.ts";

let isolate: ivm.Isolate | null = null;
afterEach(() => {
  if (isolate && !isolate.isDisposed) isolate.dispose();
  isolate = null;
});

async function spin(budgetMs: number, deadlineInMs: number): Promise<{ reason: KillReason | null; dog: Watchdog }> {
  isolate = new ivm.Isolate({ memoryLimit: 16 });
  const iso = isolate;
  const ctx = await iso.createContext();
  let reason: KillReason | null = null;
  const dog = new Watchdog(iso, budgetMs, Date.now() + deadlineInMs, (r) => {
    reason ??= r;
    iso.dispose();
  });
  await ctx.eval("for (;;) {}").catch(() => {});
  dog.stop();
  return { reason, dog };
}

describe("Watchdog", () => {
  it("kills a run over its CPU budget (cpu_time) and reports the CPU it used", async () => {
    const { reason, dog } = await spin(40, 10_000);
    expect(reason).toBe("cpu_time");
    expect(dog.cpuMs()).toBeGreaterThanOrEqual(40);
  });

  it("kills a run past its deadline first when that comes first (wall_time)", async () => {
    const { reason } = await spin(10_000, 40);
    expect(reason).toBe("wall_time");
  });

  it("bounds a synchronous call by whichever budget is left first", async () => {
    isolate = new ivm.Isolate({ memoryLimit: 16 });
    const kill = (): void => {};
    const cpuFirst = new Watchdog(isolate, 100, Date.now() + 10_000, kill);
    const wallFirst = new Watchdog(isolate, 10_000, Date.now() + 100, kill);
    cpuFirst.stop();
    wallFirst.stop();
    expect(cpuFirst.syncLimit()).toMatchObject({ reason: "cpu_time" });
    expect(cpuFirst.syncLimit().timeoutMs).toBeLessThanOrEqual(100);
    expect(wallFirst.syncLimit()).toMatchObject({ reason: "wall_time" });
  });
});

describe("HeapMonitor", () => {
  it("samples after the first run and every 8th (or after 250 ms), not after each run", async () => {
    isolate = new ivm.Isolate({ memoryLimit: 64 });
    const ctx = await isolate.createContext();
    const heap = new HeapMonitor(64);
    const t0 = 1_000_000;
    expect(heap.afterRun(isolate, t0)).toBe(true);
    const first = heap.bytes;
    expect(first).toBeGreaterThan(0);
    // Grow the heap by ~4 MB: runs 2..7 do not measure it (they come within 250 ms).
    await ctx.eval("globalThis.keep = new Array(500_000).fill(0).map((_, i) => i + 0.5)");
    for (let run = 2; run <= 7; run++) heap.afterRun(isolate, t0 + run);
    expect(heap.bytes).toBe(first);
    heap.afterRun(isolate, t0 + 8); // the 8th
    const eighth = heap.bytes;
    expect(eighth).toBeGreaterThan(first + 2 * 1024 * 1024);
    // The 9th, 250 ms after the last reading, measures again.
    await ctx.eval("globalThis.keep2 = new Array(500_000).fill(0).map((_, i) => i + 0.5)");
    heap.afterRun(isolate, t0 + 100);
    expect(heap.bytes).toBe(eighth);
    heap.afterRun(isolate, t0 + 8 + 250);
    expect(heap.bytes).toBeGreaterThan(eighth + 2 * 1024 * 1024);
  });

  it("measures after every run once the heap is over half its limit", async () => {
    isolate = new ivm.Isolate({ memoryLimit: 64 });
    const ctx = await isolate.createContext();
    await ctx.eval("globalThis.keep = new Array(500_000).fill(0).map((_, i) => i + 0.5)");
    const heap = new HeapMonitor(8); // over 4 MB used of 8: "high"
    heap.afterRun(isolate, 0);
    const first = heap.bytes;
    await ctx.eval("globalThis.keep2 = new Array(250_000).fill(0).map((_, i) => i + 0.5)");
    heap.afterRun(isolate, 1);
    expect(heap.bytes).toBeGreaterThan(first + 1024 * 1024);
  });

  it("asks to retire an isolate above 90 % of its limit, and one it cannot read", async () => {
    isolate = new ivm.Isolate({ memoryLimit: 64 });
    const ctx = await isolate.createContext();
    await ctx.eval("globalThis.keep = []; for (let i = 0; i < 60; i++) keep.push(new Array(16_000).fill(i + 0.5))");
    expect(new HeapMonitor(8).afterRun(isolate)).toBe(false);
    expect(new HeapMonitor(64).afterRun(isolate)).toBe(true);
    isolate.dispose();
    expect(new HeapMonitor(64).afterRun(isolate)).toBe(false);
  });
});
