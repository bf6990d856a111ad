import { describe, expect, it } from "vitest";
import { BatchQueue, type Entry } from "./batch-queue.ts";
import { testLog } from "./test-support.ts";

const entries = (from: number, to: number): Entry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, log: testLog() }));

describe("BatchQueue", () => {
  it("hands out batches from the front and counts rows queued and in flight", () => {
    const q = new BatchQueue();
    for (const e of entries(1, 5)) q.push(e);
    const a = q.take(2);
    expect(a.map((e) => e.seq)).toEqual([1, 2]);
    expect([q.queued, q.inflight, q.size, q.minSeq()]).toEqual([3, 2, 5, 1]);
    q.settle(a);
    expect([q.queued, q.inflight, q.minSeq()]).toEqual([3, 0, 3]);
  });

  it("a failed batch goes back to the front, in order", () => {
    const q = new BatchQueue();
    for (const e of entries(1, 6)) q.push(e);
    const a = q.take(2);
    const b = q.take(2);
    q.settle(b, b);
    q.settle(a, a);
    expect(q.take(10).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("settling a batch twice changes nothing", () => {
    const q = new BatchQueue();
    for (const e of entries(1, 2)) q.push(e);
    const a = q.take(2);
    q.settle(a, a);
    q.settle(a, a);
    expect(q.size).toBe(2);
  });

  it("takeAll copies rows in flight and empties the queue; the batch still settles", () => {
    const q = new BatchQueue();
    for (const e of entries(1, 4)) q.push(e);
    const a = q.take(1);
    expect(q.takeAll().map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect([q.queued, q.inflight]).toEqual([0, 1]);
    q.settle(a);
    expect([q.size, q.minSeq()]).toEqual([0, Number.POSITIVE_INFINITY]);
  });
});
