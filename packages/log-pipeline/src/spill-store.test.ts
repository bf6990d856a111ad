import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toLine } from "./ndjson.ts";
import { SPILL_DIR, SpillStore } from "./spill-store.ts";
import { testLog, testLogs } from "./test-support.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "picloud-spill-"));
  dirs.push(d);
  return d;
}

function logger() {
  const lines: { level: string; msg: string | undefined }[] = [];
  return {
    lines,
    info: (_o: object, msg?: string) => lines.push({ level: "info", msg }),
    warn: (_o: object, msg?: string) => lines.push({ level: "warn", msg }),
    error: (_o: object, msg?: string) => lines.push({ level: "error", msg }),
  };
}

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
    const log = logger();
    const second = SpillStore.inDataDir(dir, { logger: log });
    await second.ready;
    expect(second.hasWork()).toBe(true);
    expect((await second.read(10))?.logs.map((l) => l.id)).toEqual(rows.map((r) => r.id));
    expect(log.lines.some((l) => /earlier run/.test(l.msg ?? ""))).toBe(true);
  });

  it("an unusable directory: not usable, appends reject, a warning", async () => {
    const file = join(await dataDir(), "a-file");
    await writeFile(file, "x");
    const log = logger();
    const store = SpillStore.inDataDir(file, { logger: log });
    await store.ready;
    expect(store.usable).toBe(false);
    await expect(store.append(testLogs(1))).rejects.toThrow(/not usable/);
    expect(log.lines.some((l) => l.level === "warn" && /spill directory not usable/.test(l.msg ?? ""))).toBe(true);
  });
});
