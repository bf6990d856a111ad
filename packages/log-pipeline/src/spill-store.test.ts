import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toLine } from "./ndjson.ts";
import { SPILL_DIR, SpillStore } from "./spill-store.ts";
import { collectingLogger, tempDirs, testLog, testLogs } from "./test-support.ts";

const dataDir = tempDirs("picloud-spill-");

describe("SpillStore", () => {
  it("writes rows to <dataDir>/sink-spill and replays them, each once, deleting what was passed", async () => {
    const dir = await dataDir();
    const store = SpillStore.inDataDir(dir, { segmentBytes: 2048 });
    const rows = testLogs(20);
    expect(await store.append(rows)).toEqual({ spilled: 20, overCap: 0 });
    expect(store.bytes).toBe(rows.reduce((s, r) => s + Buffer.byteLength(toLine(r)), 0));
    const seen: string[] = [];
    while (store.hasWork()) {
      const batch = await store.read(7);
      if (!batch) break;
      seen.push(...batch.logs.map((l) => l.id));
      await store.advance(batch);
    }
    expect(seen).toEqual(rows.map((r) => r.id));
    expect(store.bytes).toBe(0);
    expect(await readdir(join(dir, SPILL_DIR))).toEqual([]);
    await store.close();
  });

  it("never writes past its byte cap, also with appends racing", async () => {
    const dir = await dataDir();
    const line = Buffer.byteLength(toLine(testLog()));
    const store = SpillStore.inDataDir(dir, { maxBytes: line * 10 + line / 2 });
    const results = await Promise.all([store.append(testLogs(6)), store.append(testLogs(6))]);
    expect(results.reduce((s, r) => s + r.spilled, 0)).toBe(10);
    expect(results.reduce((s, r) => s + r.overCap, 0)).toBe(2);
    expect(store.bytes).toBeLessThanOrEqual(line * 10 + line / 2);
    await store.close();
  });

  it("picks up segments an earlier process left, and says so", async () => {
    const dir = await dataDir();
    const first = SpillStore.inDataDir(dir);
    const rows = testLogs(3);
    await first.append(rows);
    await first.close();
    const log = collectingLogger();
    const second = SpillStore.inDataDir(dir, { logger: log });
    await second.ready;
    expect(second.hasWork()).toBe(true);
    expect((await second.read(10))?.logs.map((l) => l.id)).toEqual(rows.map((r) => r.id));
    expect(log.lines.some((l) => /earlier run/.test(l.msg ?? ""))).toBe(true);
  });

  it("an unusable directory: not usable, appends reject, a warning", async () => {
    const file = join(await dataDir(), "a-file");
    await writeFile(file, "x");
    const log = collectingLogger();
    const store = SpillStore.inDataDir(file, { logger: log });
    await store.ready;
    expect(store.usable).toBe(false);
    await expect(store.append(testLogs(1))).rejects.toThrow(/not usable/);
    expect(log.lines.some((l) => l.level === "warn" && /spill directory not usable/.test(l.msg ?? ""))).toBe(true);
  });
});
