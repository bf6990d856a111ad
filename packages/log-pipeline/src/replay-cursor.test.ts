import { appendFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toLine } from "./ndjson.ts";
import { ReplayCursor } from "./replay-cursor.ts";
import { type Segment, SegmentFiles } from "./segment-files.ts";
import { tempDirs, testLogs } from "./test-support.ts";

const tempDir = tempDirs("picloud-replay-");

async function filesWith(lines: string[], segmentBytes = 1 << 20): Promise<SegmentFiles> {
  const d = await tempDir();
  const files = new SegmentFiles({ dir: join(d, "s"), segmentBytes });
  await files.open();
  for (const l of lines) await files.append(l, Buffer.byteLength(l));
  return files;
}

describe("ReplayCursor", () => {
  it("reads oldest first, a batch at a time, and deletes a segment only once it is passed", async () => {
    const rows = testLogs(5);
    const files = await filesWith(rows.map(toLine));
    const cursor = new ReplayCursor(files, { onLost: () => {} });
    expect(cursor.hasWork()).toBe(true);
    const a = await cursor.read(3); // seals the active file
    expect(a?.logs.map((l) => l.id)).toEqual(rows.slice(0, 3).map((l) => l.id));
    // Not passed yet (the store failed): the same rows come again.
    expect((await cursor.read(3))?.logs.map((l) => l.id)).toEqual(a?.logs.map((l) => l.id));
    await cursor.advance(a!);
    const b = await cursor.read(3);
    expect(b?.logs.map((l) => l.id)).toEqual(rows.slice(3).map((l) => l.id));
    expect(files.sealed.length).toBe(1);
    await cursor.advance(b!);
    expect([files.sealed.length, files.bytes, cursor.hasWork()]).toEqual([0, 0, false]);
    expect(await cursor.read(3)).toBeNull();
  });

  it("reports unreadable lines with their batch, and moves on to the next segment", async () => {
    const rows = testLogs(2);
    const files = await filesWith([toLine(rows[0]!), "garbage\n", toLine(rows[1]!)], 5);
    expect(files.sealed.length).toBe(3);
    const cursor = new ReplayCursor(files, { onLost: () => {} });
    const seen: string[] = [];
    let bad = 0;
    for (let batch = await cursor.read(10); batch; batch = await cursor.read(10)) {
      seen.push(...batch.logs.map((l) => l.id));
      bad += batch.bad;
      await cursor.advance(batch);
    }
    expect(seen).toEqual(rows.map((r) => r.id));
    expect(bad).toBe(1);
  });

  it("gives up on a segment that cannot be read", async () => {
    const files = await filesWith(testLogs(2).map(toLine), 10);
    const [first] = files.sealed;
    await rm(first!.path);
    const lost: Segment[] = [];
    const cursor = new ReplayCursor(files, { onLost: (s) => lost.push(s) });
    expect(await cursor.read(10)).toBeNull();
    expect(lost).toEqual([first]);
    expect((await cursor.read(10))?.logs.length).toBe(1);
  });

  it("a leftover segment ending in a torn line is finished once that line is passed", async () => {
    const files = await filesWith(testLogs(1).map(toLine));
    await files.close();
    await appendFile(join(files.dir, "active.ndjson"), '{"id":"');
    const again = new SegmentFiles({ dir: files.dir, segmentBytes: 1 << 20 });
    await again.open();
    const cursor = new ReplayCursor(again, { onLost: () => {} });
    const a = await cursor.read(10);
    expect([a?.logs.length, a?.bad]).toEqual([1, 0]);
    await cursor.advance(a!);
    expect(again.sealed.length).toBe(1);
    const b = await cursor.read(10);
    expect([b?.logs.length, b?.bad]).toEqual([0, 1]);
    await cursor.advance(b!);
    expect([again.sealed.length, again.bytes]).toEqual([0, 0]);
  });
});
