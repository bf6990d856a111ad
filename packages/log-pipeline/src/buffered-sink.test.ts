import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { type ExecutionLog, type LogWriter, RowsRejectedError } from "@picloud/shared";
import { eventually } from "@picloud/testing";
import { describe, expect, it } from "vitest";
import { BufferedLogSink, type BufferedSinkOptions } from "./buffered-sink.ts";
import { SPILL_DIR, SpillStore } from "./spill-store.ts";
import { collectingLogger, tempDirs, testLogs } from "./test-support.ts";

const dataDir = tempDirs("picloud-buffered-");

/**
 * An in-memory store behind the `LogWriter` contract: idempotent by id, with switches for
 * the failures a real store has (refusing, never answering) and rows it rejects for good.
 */
class MemoryWriter implements LogWriter {
  mode: "ok" | "fail" | "hang";
  readonly rejectIds = new Set<string>();
  readonly stored = new Map<string, number>();
  readonly batches: number[] = [];
  inflight = 0;
  maxInflight = 0;

  constructor(mode: MemoryWriter["mode"] = "ok") {
    this.mode = mode;
  }

  async writeBatch(logs: readonly ExecutionLog[]): Promise<number> {
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    try {
      await new Promise((r) => setTimeout(r, 2));
      if (this.mode === "fail") throw new Error("ECONNREFUSED");
      if (this.mode === "hang") await new Promise(() => {});
      this.batches.push(logs.length);
      let inserted = 0;
      const rejected = [];
      for (const [index, l] of logs.entries()) {
        if (this.rejectIds.has(l.id)) {
          rejected.push({ index, reason: "invalid" as const, message: "not storable" });
          continue;
        }
        const n = this.stored.get(l.id) ?? 0;
        if (n === 0) inserted++;
        this.stored.set(l.id, n + 1);
      }
      if (rejected.length > 0) throw new RowsRejectedError(rejected, inserted);
      return inserted;
    } finally {
      this.inflight--;
    }
  }

  /** Ids stored, each once (a row stored twice would show up twice). */
  ids(): string[] {
    return [...this.stored.entries()].flatMap(([id, n]) => Array<string>(n).fill(id));
  }
}

async function sinkWith(
  writer: LogWriter,
  o: Partial<BufferedSinkOptions> & { dir?: string; maxSpillBytes?: number } = {},
): Promise<{ sink: BufferedLogSink; dir: string }> {
  const dir = o.dir ?? (await dataDir());
  const spill = SpillStore.inDataDir(dir, { logger: o.logger, maxBytes: o.maxSpillBytes });
  return { sink: new BufferedLogSink({ writer, spill, retryBaseMs: 5, retryMaxMs: 50, ...o }), dir };
}

const sorted = (a: string[]) => [...a].sort();

describe("BufferedLogSink", () => {
  it("writes every row once, in batches of at most batchSize, at most `concurrency` at a time", async () => {
    const writer = new MemoryWriter();
    const { sink } = await sinkWith(writer, { batchSize: 50, concurrency: 3 });
    const rows = testLogs(1000);
    for (let i = 0; i < rows.length; i += 100) {
      for (const r of rows.slice(i, i + 100)) sink.write(r);
      await new Promise((r) => setImmediate(r));
    }
    await sink.flush();
    expect(sorted(writer.ids())).toEqual(sorted(rows.map((r) => r.id)));
    expect(Math.max(...writer.batches)).toBeLessThanOrEqual(50);
    expect(writer.maxInflight).toBeLessThanOrEqual(3);
    expect(writer.maxInflight).toBeGreaterThan(1);
    expect(sink.stats()).toEqual({ buffered: 0, written: 1000, failed: 0, dropped: 0, spilled: 0, spillBytes: 0 });
    await sink.close();
  });

  it("writes a partial batch after the flush interval, without a flush", async () => {
    const writer = new MemoryWriter();
    const { sink } = await sinkWith(writer, { flushIntervalMs: 20 });
    for (const r of testLogs(3)) sink.write(r);
    expect(writer.stored.size).toBe(0);
    await eventually(() => writer.stored.size === 3, 10_000, "the interval write");
    await sink.close();
  });

  it("retries a failing writer with backoff, warns once, and says when writes succeed again", async () => {
    const writer = new MemoryWriter("fail");
    const logger = collectingLogger();
    const { sink } = await sinkWith(writer, { logger, batchSize: 10 });
    const rows = testLogs(25);
    for (const r of rows) sink.write(r);
    await eventually(() => sink.stats().failed >= 3, 10_000, "three failed attempts");
    expect(sink.stats()).toMatchObject({ buffered: 25, spilled: 0, dropped: 0 });
    writer.mode = "ok";
    await eventually(() => writer.stored.size === 25 && sink.stats().buffered === 0, 10_000, "the retry");
    expect(sorted(writer.ids())).toEqual(sorted(rows.map((r) => r.id)));
    expect(sink.stats()).toMatchObject({ written: 25, spilled: 0, dropped: 0 });
    const warns = logger.lines.filter((l) => l.level === "warn");
    expect(warns.length).toBe(1);
    expect(warns[0]?.msg).toMatch(/write failed/);
    expect(warns[0]?.obj).toMatchObject({ failures: 1, err: { message: "ECONNREFUSED" } });
    expect(logger.lines.some((l) => l.level === "info" && /succeed again/.test(l.msg ?? ""))).toBe(true);
    await sink.close();
  });

  it("drops and counts rows the writer rejects, storing the rest of their batch", async () => {
    const writer = new MemoryWriter();
    const logger = collectingLogger();
    const { sink } = await sinkWith(writer, { logger });
    const rows = testLogs(20);
    writer.rejectIds.add(rows[4]!.id);
    writer.rejectIds.add(rows[11]!.id);
    for (const r of rows) sink.write(r);
    await sink.flush();
    expect(writer.stored.size).toBe(18);
    expect(sink.stats()).toMatchObject({ written: 18, dropped: 2, failed: 0, buffered: 0 });
    const warn = logger.lines.find((l) => l.level === "warn");
    expect(warn?.obj).toMatchObject({ dropped: 2, reason: "rejected by the store", rejection: "invalid" });
    await sink.close();
  });

  it("spills beyond maxBuffered while the writer is down, then replays each row once", async () => {
    const writer = new MemoryWriter("fail");
    const { sink, dir } = await sinkWith(writer, { batchSize: 20, maxBuffered: 50 });
    const rows = testLogs(400);
    for (const r of rows) sink.write(r);
    await eventually(() => sink.stats().spilled === 350, 10_000, "rows spilled");
    expect(sink.stats()).toMatchObject({ buffered: 50, dropped: 0 });
    expect(sink.stats().spillBytes).toBeGreaterThan(0);
    writer.mode = "ok";
    await eventually(() => sink.stats().buffered === 0 && sink.stats().spillBytes === 0, 10_000, "replay");
    expect(sorted(writer.ids())).toEqual(sorted(rows.map((r) => r.id)));
    expect(sink.stats()).toMatchObject({ written: 400, dropped: 0 });
    expect(await readdir(join(dir, SPILL_DIR))).toEqual([]);
    await sink.close();
  });

  it("flush during an outage spills instead of waiting; a writer that never answers times out", async () => {
    const writer = new MemoryWriter("hang");
    const { sink } = await sinkWith(writer, { batchSize: 10, writeTimeoutMs: 100 });
    const rows = testLogs(30);
    for (const r of rows) sink.write(r);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ buffered: 0, spilled: 30 });
    expect(sink.stats().failed).toBeGreaterThan(0);
    writer.mode = "ok";
    await eventually(() => sink.stats().spillBytes === 0 && writer.stored.size === 30, 10_000, "replay");
    expect(sorted(writer.ids())).toEqual(sorted(rows.map((r) => r.id)));
    await sink.close();
  });

  it("close spills what the writer did not take in time; the next sink replays it once", async () => {
    const down = new MemoryWriter("hang");
    const { sink, dir } = await sinkWith(down, { closeTimeoutMs: 200, writeTimeoutMs: 60_000 });
    const rows = testLogs(120);
    for (const r of rows) sink.write(r);
    await sink.close();
    expect(sink.stats()).toMatchObject({ spilled: 120, dropped: 0 });
    sink.write(rows[0]!); // after close: dropped and counted, never thrown
    expect(sink.stats().dropped).toBe(1);

    const writer = new MemoryWriter();
    const { sink: next } = await sinkWith(writer, { dir });
    await eventually(() => writer.stored.size === 120 && next.stats().spillBytes === 0, 10_000, "replay at start");
    expect(sorted(writer.ids())).toEqual(sorted(rows.map((r) => r.id)));
    await next.close();
  });

  it("counts rows beyond the spill cap as dropped", async () => {
    const writer = new MemoryWriter("fail");
    const { sink } = await sinkWith(writer, { batchSize: 5, maxBuffered: 10, maxSpillBytes: 10_000 });
    for (const r of testLogs(100)) sink.write(r);
    await eventually(() => sink.stats().spilled + sink.stats().dropped === 90, 10_000, "spill settles");
    const s = sink.stats();
    expect(s.spilled).toBeGreaterThan(0);
    expect(s.dropped).toBeGreaterThan(0);
    expect(s.spillBytes).toBeLessThanOrEqual(10_000);
    await sink.close();
  });
});
