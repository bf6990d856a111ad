import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Entry } from "./batch-queue.ts";
import { toLine } from "./ndjson.ts";
import { SpillQueue } from "./spill-queue.ts";
import { SpillStore } from "./spill-store.ts";
import { tempDirs, testLog } from "./test-support.ts";

const dataDir = tempDirs("picloud-spillq-");

const entries = (n: number, from = 1): Entry[] =>
  Array.from({ length: n }, (_, i) => ({ seq: from + i, log: testLog() }));

function queue(store: SpillStore, limit: number) {
  const events = { drops: [] as { n: number; reason: string }[], progress: 0, idle: 0 };
  const q = new SpillQueue({
    store,
    limit,
    chunkRows: 4,
    onDrop: (n, reason) => events.drops.push({ n, reason }),
    onProgress: () => events.progress++,
    onIdle: () => events.idle++,
  });
  return { q, events };
}

describe("SpillQueue", () => {
  it("appends staged rows in chunks, settling each chunk, then says it is idle", async () => {
    const store = SpillStore.inDataDir(await dataDir());
    const { q, events } = queue(store, 100);
    for (const e of entries(10)) expect(q.offer(e)).toBe(true);
    expect(q.minSeq()).toBe(1);
    await q.idle();
    expect([q.size, q.spilled, q.minSeq()]).toEqual([0, 10, Number.POSITIVE_INFINITY]);
    expect(events).toEqual({ drops: [], progress: 3, idle: 1 });
    expect(store.hasWork()).toBe(true);
  });

  it("refuses new rows beyond its limit, but takes the memory queue whatever its size", async () => {
    const store = SpillStore.inDataDir(await dataDir());
    const { q } = queue(store, 2);
    const [a, b, c] = entries(3);
    expect([q.offer(a!), q.offer(b!), q.offer(c!)]).toEqual([true, true, false]);
    q.stage(entries(5, 10));
    expect(q.size).toBe(7);
    await q.idle();
    expect(q.spilled).toBe(7);
  });

  it("counts rows the cap or the disk leave out as dropped", async () => {
    const line = Buffer.byteLength(toLine(testLog()));
    const capped = queue(SpillStore.inDataDir(await dataDir(), { maxBytes: line * 3 }), 100);
    capped.q.stage(entries(5));
    await capped.q.idle();
    expect(capped.q.spilled).toBe(3);
    expect(capped.events.drops).toEqual([
      { n: 1, reason: "spill file full" }, // the first chunk of 4: 3 fit
      { n: 1, reason: "spill file full" },
    ]);

    const file = join(await dataDir(), "a-file");
    await writeFile(file, "x");
    const broken = queue(SpillStore.inDataDir(file), 100);
    broken.q.stage(entries(5));
    await broken.q.idle();
    expect(broken.q.spilled).toBe(0);
    expect(broken.events.drops).toEqual([
      { n: 4, reason: "spill directory not usable" },
      { n: 1, reason: "spill directory not usable" },
    ]);
  });
});
