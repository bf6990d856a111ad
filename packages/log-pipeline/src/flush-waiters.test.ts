import { describe, expect, it } from "vitest";
import { FlushWaiters } from "./flush-waiters.ts";

describe("FlushWaiters", () => {
  it("resolves a waiter only once every row up to its mark is settled", async () => {
    const w = new FlushWaiters();
    const done: number[] = [];
    void w.wait(3).then(() => done.push(3));
    void w.wait(7).then(() => done.push(7));
    expect(w.size).toBe(2);
    w.settle(3); // row 3 is still unsettled
    await Promise.resolve();
    expect(done).toEqual([]);
    w.settle(4);
    await Promise.resolve();
    expect(done).toEqual([3]);
    w.settle(Number.POSITIVE_INFINITY);
    await Promise.resolve();
    expect(done).toEqual([3, 7]);
    expect(w.size).toBe(0);
  });

  it("resolveAll lets every waiter go", async () => {
    const w = new FlushWaiters();
    const all = Promise.all([w.wait(1), w.wait(2)]);
    w.resolveAll();
    await expect(all).resolves.toEqual([undefined, undefined]);
    expect(w.size).toBe(0);
  });
});
