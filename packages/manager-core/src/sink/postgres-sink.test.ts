import { randomUUID } from "node:crypto";
import { appendFile, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecutionLog, MinimalLogger } from "@picloud/shared";
import { collectingLogger, createTestDatabase, makeLog, type TestDatabase } from "@picloud/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase, rawQuery } from "../db/database.ts";
import { ExecutionLogsRepository } from "../logs/execution-logs-repository.ts";
import { PostgresExecutionLogSink } from "./postgres-sink.ts";

let tdb: TestDatabase;
let database: Database;
let repo: ExecutionLogsRepository;
const dirs: string[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  database = await openDatabase({ url: tdb.url, maxConnections: 4 });
  repo = new ExecutionLogsRepository(database.db);
});
afterAll(async () => {
  await database?.close();
  await tdb?.drop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "picloud-sink-"));
  dirs.push(d);
  return d;
}

function rows(n: number, scriptId = randomUUID()): ExecutionLog[] {
  const start = Date.now();
  return Array.from({ length: n }, (_, i) =>
    makeLog({ scriptId, ms: start + i, status: i % 10 === 0 ? "error" : "success" }),
  );
}

async function counts(scriptId: string, db: Database = database): Promise<{ n: number; distinct: number }> {
  const [r] = await rawQuery<{ n: number; d: number }>(
    db.db,
    `select count(*)::int as n, count(distinct id)::int as d from execution_logs where script_id = '${scriptId}'`,
  );
  return { n: Number(r?.n ?? 0), distinct: Number(r?.d ?? 0) };
}

async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs = 20_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function spillFiles(dataDir: string): Promise<{ names: string[]; bytes: number }> {
  const dir = join(dataDir, "sink-spill");
  const names = await readdir(dir).catch(() => [] as string[]);
  let bytes = 0;
  for (const n of names) bytes += (await stat(join(dir, n))).size;
  return { names, bytes };
}

/**
 * A TCP proxy in front of the test PostgreSQL that the test can break: "forward" pipes,
 * "down" refuses connections (and cuts open ones), "blackhole" accepts and never answers.
 */
class PgProxy {
  mode: "forward" | "down" | "blackhole" = "forward";
  port = 0;
  #server: net.Server | null = null;
  readonly #sockets = new Set<net.Socket>();

  async listen(): Promise<void> {
    const server = net.createServer((client) => {
      this.#sockets.add(client);
      client.on("close", () => this.#sockets.delete(client));
      client.on("error", () => {});
      if (this.mode === "blackhole") return; // swallow everything
      const pgUrl = new URL(tdb.url);
      const upstream = net.connect(Number(pgUrl.port || 5432), pgUrl.hostname);
      this.#sockets.add(upstream);
      upstream.on("close", () => {
        this.#sockets.delete(upstream);
        client.destroy();
      });
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  url(): string {
    const u = new URL(tdb.url);
    u.hostname = "127.0.0.1";
    u.port = String(this.port);
    return u.toString();
  }

  cut(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  async down(): Promise<void> {
    this.mode = "down";
    const s = this.#server;
    this.#server = null;
    this.cut();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  async blackhole(): Promise<void> {
    this.mode = "blackhole";
    this.cut();
    if (!this.#server) await this.listen();
  }

  async up(): Promise<void> {
    this.mode = "forward";
    this.cut();
    if (!this.#server) await this.listen();
  }
}

describe("PostgresExecutionLogSink", () => {
  it("writes every row exactly once, in batches", async () => {
    const logger = collectingLogger();
    const sink = new PostgresExecutionLogSink({ repository: repo, dataDir: await tempDir(), logger });
    const scriptId = randomUUID();
    const all = rows(5000, scriptId);
    // bursts with pauses: rows arriving while a batch is in flight form the next batch
    for (let i = 0; i < all.length; i += 250) {
      for (const r of all.slice(i, i + 250)) sink.write(r);
      await new Promise((r) => setImmediate(r));
    }
    await sink.flush();
    expect(await counts(scriptId)).toEqual({ n: 5000, distinct: 5000 });
    expect(sink.stats()).toEqual({ buffered: 0, written: 5000, failed: 0, dropped: 0, spilled: 0, spillBytes: 0 });
    // a partial batch is written after the flush interval, without a flush
    const late = rows(3, scriptId);
    for (const r of late) sink.write(r);
    await waitFor(async () => (await counts(scriptId)).n === 5003, 10_000, "the interval flush");
    await sink.close();
    expect(logger.lines.filter((l) => l.level !== "info")).toEqual([]);
  });

  it("works the same over embedded PGlite (single-process mode)", async () => {
    const lite = await openDatabase({ dataDir: "memory://" });
    try {
      await lite.migrate();
      const sink = new PostgresExecutionLogSink({
        repository: new ExecutionLogsRepository(lite.db),
        dataDir: await tempDir(),
        logger: collectingLogger(),
        batchSize: 100,
        concurrency: 3,
      });
      const scriptId = randomUUID();
      for (const r of rows(1000, scriptId)) sink.write(r);
      await sink.close();
      expect(await counts(scriptId, lite)).toEqual({ n: 1000, distinct: 1000 });
      expect(sink.stats()).toMatchObject({ written: 1000, failed: 0, dropped: 0, spilled: 0, buffered: 0 });
    } finally {
      await lite.close();
    }
  });

  it("keeps rows in memory and the spill file while the database is down, then stores each once", async () => {
    const proxy = new PgProxy();
    await proxy.listen();
    const viaProxy = await openDatabase({ url: proxy.url(), maxConnections: 2 });
    const dataDir = await tempDir();
    const logger = collectingLogger();
    const sink = new PostgresExecutionLogSink({
      repository: new ExecutionLogsRepository(viaProxy.db),
      dataDir,
      logger,
      batchSize: 50,
      maxBuffered: 200,
      retryBaseMs: 20,
      retryMaxMs: 200,
      writeTimeoutMs: 3000,
      spillSegmentBytes: 64 * 1024,
    });
    try {
      const scriptId = randomUUID();
      const all = rows(1500, scriptId);
      for (const r of all.slice(0, 100)) sink.write(r);
      await sink.flush();
      expect((await counts(scriptId)).n).toBe(100);

      await proxy.down();
      for (let i = 100; i < all.length; i += 100) {
        for (const r of all.slice(i, i + 100)) sink.write(r);
        await new Promise((r) => setTimeout(r, 10));
      }
      await waitFor(() => sink.stats().failed > 0 && sink.stats().spilled >= 1200, 20_000, "rows held and spilled");
      const held = sink.stats();
      expect(held.buffered).toBeLessThanOrEqual(200);
      expect(held.dropped).toBe(0);
      expect((await spillFiles(dataDir)).bytes).toBeGreaterThan(0);
      expect(logger.lines.some((l) => l.level === "warn" && /write failed/.test(l.msg ?? ""))).toBe(true);

      await proxy.up();
      await waitFor(
        async () => sink.stats().buffered === 0 && sink.stats().spillBytes === 0 && (await counts(scriptId)).n === 1500,
        30_000,
        "replay after the database returned",
      );
      expect(await counts(scriptId)).toEqual({ n: 1500, distinct: 1500 });
      expect((await spillFiles(dataDir)).names.filter((n) => n.startsWith("replay-"))).toEqual([]);
      expect(sink.stats()).toMatchObject({ dropped: 0, written: 1500, buffered: 0, spillBytes: 0 });
      expect(logger.lines.some((l) => l.level === "info" && /succeed again/.test(l.msg ?? ""))).toBe(true);
    } finally {
      await sink.close();
      await proxy.down();
      await viaProxy.close().catch(() => {});
    }
  });

  it("a database that stops answering: writes time out, flush spills, and the rows are stored once later", async () => {
    const proxy = new PgProxy();
    await proxy.listen();
    const viaProxy = await openDatabase({ url: proxy.url(), maxConnections: 2 });
    const dataDir = await tempDir();
    const sink = new PostgresExecutionLogSink({
      repository: new ExecutionLogsRepository(viaProxy.db),
      dataDir,
      logger: collectingLogger(),
      batchSize: 20,
      retryBaseMs: 20,
      retryMaxMs: 100,
      writeTimeoutMs: 300,
    });
    try {
      const scriptId = randomUUID();
      const all = rows(120, scriptId);
      await proxy.blackhole();
      for (const r of all) sink.write(r);
      await sink.flush(); // resolves: the rows are on disk, not in the database
      const s = sink.stats();
      expect(s.failed).toBeGreaterThan(0);
      expect(s.spilled).toBe(120);
      expect(s.buffered).toBe(0);
      await proxy.up();
      await waitFor(async () => (await counts(scriptId)).n === 120 && sink.stats().spillBytes === 0, 30_000, "replay");
      expect(await counts(scriptId)).toEqual({ n: 120, distinct: 120 });
    } finally {
      await sink.close();
      await proxy.down();
      await viaProxy.close().catch(() => {});
    }
  });

  it("drops and counts rows beyond the spill cap", async () => {
    const dataDir = await tempDir();
    const sink = new PostgresExecutionLogSink({
      repository: { insertBatch: () => Promise.reject(new Error("connection refused")) },
      dataDir,
      logger: collectingLogger(),
      batchSize: 5,
      maxBuffered: 10,
      maxSpillBytes: 20_000,
      retryBaseMs: 5,
      retryMaxMs: 20,
    });
    const all = rows(100);
    for (let i = 0; i < all.length; i += 5) {
      for (const r of all.slice(i, i + 5)) sink.write(r);
      await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor(() => sink.stats().spilled + sink.stats().dropped === 90, 10_000, "spill settles");
    const s = sink.stats();
    expect(s.buffered).toBe(10);
    expect(s.spilled).toBeGreaterThan(5);
    expect(s.dropped).toBeGreaterThan(0);
    expect(s.spilled + s.dropped + s.buffered).toBe(100);
    const files = await spillFiles(dataDir);
    expect(files.bytes).toBeLessThanOrEqual(20_000);
    expect(files.bytes).toBe(s.spillBytes);
    await sink.close();
  });

  it("replays a spill file left by an earlier process at start, each row once", async () => {
    const dataDir = await tempDir();
    const scriptId = randomUUID();
    const all = rows(300, scriptId);
    // An earlier process: database unreachable, closed (SIGTERM) with everything spilled.
    const first = new PostgresExecutionLogSink({
      repository: { insertBatch: () => Promise.reject(new Error("ECONNREFUSED")) },
      dataDir,
      logger: collectingLogger(),
      batchSize: 50,
      maxBuffered: 100,
      retryBaseMs: 10,
      closeTimeoutMs: 200,
    });
    for (const r of all) first.write(r);
    await first.close();
    expect(first.stats()).toMatchObject({ spilled: 300, buffered: 0, dropped: 0 });
    first.write(all[0]!); // after close: dropped and counted, never thrown
    expect(first.stats().dropped).toBe(1);
    // Part of it had already reached the database (a crash mid-replay), and the file ends
    // with a garbage line and a torn last line.
    await repo.insertBatch(all.slice(0, 40));
    const dir = join(dataDir, "sink-spill");
    await appendFile(join(dir, "active.ndjson"), 'not json\n{"id":"', "utf8");

    const logger = collectingLogger();
    const second = new PostgresExecutionLogSink({ repository: repo, dataDir, logger });
    await waitFor(
      async () => (await counts(scriptId)).n === 300 && second.stats().spillBytes === 0,
      20_000,
      "replay at start",
    );
    expect(await counts(scriptId)).toEqual({ n: 300, distinct: 300 });
    expect(second.stats()).toMatchObject({ written: 300, dropped: 2, buffered: 0, spillBytes: 0 });
    expect((await spillFiles(dataDir)).names).toEqual([]);
    expect(logger.lines.some((l) => /earlier run/.test(l.msg ?? ""))).toBe(true);
    await second.close();
  });

  it("write never throws: a repository that throws synchronously or rejects, odd input, a throwing logger", async () => {
    const throwingLogger: MinimalLogger = {
      info: () => {
        throw new Error("logger down");
      },
      warn: () => {
        throw new Error("logger down");
      },
      error: () => {
        throw new Error("logger down");
      },
    };
    for (const repository of [
      {
        insertBatch: (): Promise<number> => {
          throw new Error("sync boom");
        },
      },
      { insertBatch: () => Promise.reject(new Error("async boom")) },
    ]) {
      const dataDir = await tempDir();
      const sink = new PostgresExecutionLogSink({
        repository,
        dataDir,
        logger: throwingLogger,
        batchSize: 2,
        maxBuffered: 100,
        retryBaseMs: 5,
        closeTimeoutMs: 300,
      });
      const cyclic = makeLog({ scriptId: randomUUID(), ms: Date.now() });
      const data: Record<string, unknown> = {};
      data["self"] = data;
      cyclic.logs = [{ level: "info", message: "cycle", data, ts: 1 }];
      expect(() => {
        for (const r of rows(10)) sink.write(r);
        sink.write(cyclic);
        // What a buggy caller could pass despite the types.
        for (const notALog of [null, undefined]) Reflect.apply(sink.write, sink, [notALog]);
      }).not.toThrow();
      await sink.flush();
      await waitFor(() => sink.stats().failed > 0, 5000, "a failed attempt");
      await sink.close();
      expect(sink.stats()).toMatchObject({ buffered: 0, spilled: 11, dropped: 2 });
    }
  });

  it("isolates and drops a row the database refuses, storing the rest of its batch", async () => {
    const logger = collectingLogger();
    const sink = new PostgresExecutionLogSink({ repository: repo, dataDir: await tempDir(), logger, batchSize: 50 });
    const scriptId = randomUUID();
    const all = rows(20, scriptId);
    all[7] = { ...all[7]!, id: "not-a-uuid" };
    const noName: Record<string, unknown> = { ...all[13], scriptName: undefined };
    all[13] = noName as ExecutionLog;
    for (const r of all) sink.write(r);
    await sink.flush();
    expect(await counts(scriptId)).toEqual({ n: 18, distinct: 18 });
    expect(sink.stats()).toMatchObject({ written: 18, dropped: 2, failed: 0, buffered: 0 });
    expect(logger.lines.some((l) => l.level === "warn" && /dropped/.test(l.msg ?? ""))).toBe(true);
    await sink.close();
  });

  it("close flushes what is buffered; an unusable data directory only costs the spill", async () => {
    const file = join(await tempDir(), "a-file");
    await writeFile(file, "x");
    const logger = collectingLogger();
    const sink = new PostgresExecutionLogSink({ repository: repo, dataDir: file, logger, flushIntervalMs: 5_000 });
    const scriptId = randomUUID();
    for (const r of rows(42, scriptId)) sink.write(r);
    await sink.close();
    expect(await counts(scriptId)).toEqual({ n: 42, distinct: 42 });
    expect(logger.lines.some((l) => /spill directory not usable/.test(l.msg ?? ""))).toBe(true);
  });
});
