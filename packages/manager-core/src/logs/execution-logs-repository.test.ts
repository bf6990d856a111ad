import { randomUUID } from "node:crypto";
import type { ExecutionLog, ExecutionStatus } from "@picloud/shared";
import { createTestDatabase, makeLog, uuidv7At } from "@picloud/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase, rawQuery } from "../db/database.ts";
import { ExecutionLogsRepository, InvalidLogsQueryError } from "./execution-logs-repository.ts";
import { RetentionJob } from "./retention.ts";
import { decodeCursor, encodeCursor, uuidLowerBound } from "./uuid-bounds.ts";

interface Driver {
  name: string;
  open(): Promise<{ database: Database; cleanup(): Promise<void> }>;
}

const drivers: Driver[] = [
  {
    name: "postgres",
    async open() {
      const tdb = await createTestDatabase();
      const database = await openDatabase({ url: tdb.url, maxConnections: 4 });
      return {
        database,
        async cleanup() {
          await database.close();
          await tdb.drop();
        },
      };
    },
  },
  {
    name: "pglite",
    async open() {
      const database = await openDatabase({ dataDir: "memory://" });
      await database.migrate();
      return { database, cleanup: () => database.close() };
    },
  },
];

const DAY = 24 * 3600 * 1000;
/** Status of row i in a seeded script: every 5th an error, every 7th a timeout. */
const statusAt = (i: number): ExecutionStatus => (i % 5 === 0 ? "error" : i % 7 === 0 ? "timeout" : "success");

describe.each(drivers)("ExecutionLogsRepository on $name", (driver) => {
  let database: Database;
  let cleanup: () => Promise<void>;
  let repo: ExecutionLogsRepository;

  beforeAll(async () => {
    ({ database, cleanup } = await driver.open());
    repo = new ExecutionLogsRepository(database.db);
  });
  afterAll(async () => {
    await cleanup?.();
  });

  /** Seeds `n` rows for a new script, one second apart ending `endAgoMs` ago; answers them oldest first. */
  async function seed(n: number, endAgoMs = DAY): Promise<{ scriptId: string; rows: ExecutionLog[] }> {
    const scriptId = randomUUID();
    const start = Date.now() - endAgoMs - n * 1000;
    const rows = Array.from({ length: n }, (_, i) => makeLog({ scriptId, ms: start + i * 1000, status: statusAt(i) }));
    expect(await repo.insertBatch(rows)).toBe(n);
    return { scriptId, rows };
  }
  const newestFirst = (rows: ExecutionLog[]) => rows.map((r) => r.id).reverse();

  describe("insertBatch", () => {
    it("inserts many rows per call and is idempotent by id", async () => {
      const scriptId = randomUUID();
      const now = Date.now();
      const rows = Array.from({ length: 25 }, (_, i) => makeLog({ scriptId, ms: now + i }));
      expect(await repo.insertBatch(rows)).toBe(25);
      expect(await repo.insertBatch(rows)).toBe(0);
      const more = [...rows.slice(0, 5), makeLog({ scriptId, ms: now + 100 }), makeLog({ scriptId, ms: now + 101 })];
      expect(await repo.insertBatch(more)).toBe(2);
      // the same id twice in one batch is one row
      const dup = makeLog({ scriptId, ms: now + 200 });
      expect(await repo.insertBatch([dup, { ...dup }])).toBe(1);
      expect(await repo.insertBatch([])).toBe(0);
      const [row] = await rawQuery<{ n: number }>(
        database.db,
        `select count(*)::int as n from execution_logs where script_id = '${scriptId}'`,
      );
      expect(Number(row?.n)).toBe(28);
    });

    it("splits batches larger than one statement's chunk", async () => {
      const { scriptId } = await seed(2345);
      const page = await repo.countCapped(scriptId, { cap: 5000 });
      expect(page).toEqual({ count: 2345, capped: false });
    });

    it("stores what JSON and text cannot carry as it can (NUL, lone surrogates, cycles, BigInt, NaN)", async () => {
      const scriptId = randomUUID();
      const log = makeLog({ scriptId, ms: Date.now() });
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic["self"] = cyclic;
      log.logs = [
        { level: "info", message: "nul\u0000here \\u0000 literal", ts: 1 },
        { level: "warn", message: "lone \ud800 surrogate, pair 😀", ts: 2, data: cyclic },
        { level: "info", message: "big", ts: 3, data: { n: 10n } },
      ];
      log.durationMs = Number.NaN;
      expect(await repo.insertBatch([log])).toBe(1);
      const got = await repo.get(log.id);
      expect(got?.logs[0]?.message).toBe("nul\ufffdhere \\u0000 literal");
      expect(got?.logs[1]?.message).toBe("lone \ufffd surrogate, pair 😀");
      expect(got?.logs[1]?.data).toEqual({ a: 1, self: "[Circular]" });
      expect(got?.logs[2]?.data).toEqual({ n: "10" });
      expect(got?.durationMs).toBe(0);
    });
  });

  describe("get", () => {
    it("answers the whole record with its captured logs and bodies", async () => {
      const scriptId = randomUUID();
      const ok = makeLog({ scriptId, ms: Date.now() - 5000 });
      const failed = makeLog({ scriptId, ms: Date.now() - 4000, status: "error" });
      await repo.insertBatch([ok, failed]);
      expect(await repo.get(ok.id)).toEqual(ok);
      expect(await repo.get(failed.id)).toEqual(failed);
      expect((await repo.get(failed.id))?.logs).toHaveLength(3);
    });

    it("answers null for an unknown or malformed id", async () => {
      expect(await repo.get(uuidv7At(Date.now()))).toBeNull();
      expect(await repo.get("not-a-uuid")).toBeNull();
      expect(await repo.get("")).toBeNull();
    });
  });

  describe("list", () => {
    let A: { scriptId: string; rows: ExecutionLog[] };
    beforeAll(async () => {
      A = await seed(450);
      await seed(10); // another script's rows never show up
    });

    it("answers newest first, 50 by default, summaries without logs or bodies", async () => {
      const page = await repo.list(A.scriptId);
      expect(page.items.map((i) => i.id)).toEqual(newestFirst(A.rows).slice(0, 50));
      expect(page.nextCursor).toEqual(expect.any(String));
      expect(page.total).toBeUndefined();
      const first = page.items[0]!;
      const src = A.rows[A.rows.length - 1]!;
      expect(first).not.toHaveProperty("logs");
      expect(first.logCount).toBe(src.logs.length);
      expect(first.request.body).toBeNull();
      expect(first.request.bodySize).toBe(src.request.bodySize);
      expect(first.request.headers).toEqual(src.request.headers);
      expect(first.request.method).toBe("POST");
      expect(first.createdAt).toBe(src.createdAt);
      const { logs: _logs, request: _req, response: _res, ...rest } = src;
      expect(first).toMatchObject(rest);
    });

    it("limit 0 answers an empty page with no cursor", async () => {
      expect(await repo.list(A.scriptId, { limit: 0 })).toEqual({ items: [], nextCursor: null });
      expect(await repo.list(A.scriptId, { limit: -3 })).toEqual({ items: [], nextCursor: null });
    });

    it("limit 1, 200 and 201 (clamped to 200)", async () => {
      const ids = newestFirst(A.rows);
      const one = await repo.list(A.scriptId, { limit: 1 });
      expect(one.items.map((i) => i.id)).toEqual(ids.slice(0, 1));
      expect(decodeCursor(one.nextCursor!)).toBe(ids[0]);
      const p200 = await repo.list(A.scriptId, { limit: 200 });
      expect(p200.items.map((i) => i.id)).toEqual(ids.slice(0, 200));
      const p201 = await repo.list(A.scriptId, { limit: 201 });
      expect(p201.items.map((i) => i.id)).toEqual(ids.slice(0, 200));
      expect(p201.nextCursor).toBe(p200.nextCursor);
      expect((await repo.list(A.scriptId, { limit: 10_000 })).items).toHaveLength(200);
    });

    it("offset pages, the last page and past the end", async () => {
      const ids = newestFirst(A.rows);
      const p = await repo.list(A.scriptId, { limit: 50, offset: 100 });
      expect(p.items.map((i) => i.id)).toEqual(ids.slice(100, 150));
      const exactEnd = await repo.list(A.scriptId, { limit: 50, offset: 400 });
      expect(exactEnd.items.map((i) => i.id)).toEqual(ids.slice(400, 450));
      expect(exactEnd.nextCursor).toBeNull();
      const tail = await repo.list(A.scriptId, { limit: 50, offset: 440 });
      expect(tail.items).toHaveLength(10);
      expect(tail.nextCursor).toBeNull();
      expect(await repo.list(A.scriptId, { limit: 50, offset: 450 })).toEqual({ items: [], nextCursor: null });
      expect(await repo.list(A.scriptId, { limit: 50, offset: 100_000 })).toEqual({ items: [], nextCursor: null });
    });

    it("walks every row once with the cursor, ending with a null cursor", async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await repo.list(A.scriptId, { limit: 200, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual(newestFirst(A.rows));
    });

    it("cursor pages stay put while new rows arrive; offset is ignored with a cursor", async () => {
      const B = await seed(120);
      const ids = newestFirst(B.rows);
      const first = await repo.list(B.scriptId, { limit: 40 });
      // newer rows arrive between pages
      const now = Date.now();
      const newer = Array.from({ length: 30 }, (_, i) => makeLog({ scriptId: B.scriptId, ms: now + i }));
      await repo.insertBatch(newer);
      const second = await repo.list(B.scriptId, { limit: 40, cursor: first.nextCursor!, offset: 40 });
      expect(second.items.map((i) => i.id)).toEqual(ids.slice(40, 80));
      const third = await repo.list(B.scriptId, { limit: 40, cursor: second.nextCursor! });
      expect(third.items.map((i) => i.id)).toEqual(ids.slice(80, 120));
      expect(third.nextCursor).toBeNull();
      // whereas the first page now starts with the new rows
      const fresh = await repo.list(B.scriptId, { limit: 40 });
      expect(fresh.items[0]?.id).toBe(newer[newer.length - 1]?.id);
    });

    it("filters by status, with offset and cursor", async () => {
      const errors = A.rows.filter((r) => r.status === "error");
      const errorIds = newestFirst(errors);
      const page = await repo.list(A.scriptId, { status: "error", limit: 50 });
      expect(page.items.every((i) => i.status === "error")).toBe(true);
      expect(page.items.map((i) => i.id)).toEqual(errorIds.slice(0, 50));
      const next = await repo.list(A.scriptId, { status: "error", limit: 50, cursor: page.nextCursor! });
      expect(next.items.map((i) => i.id)).toEqual(errorIds.slice(50, 100));
      const off = await repo.list(A.scriptId, { status: "timeout", limit: 200, offset: 10 });
      expect(off.items.map((i) => i.id)).toEqual(newestFirst(A.rows.filter((r) => r.status === "timeout")).slice(10));
      expect(off.nextCursor).toBeNull();
      expect((await repo.list(A.scriptId, { status: "budget_exceeded" })).items).toEqual([]);
    });

    it("since (inclusive) and until (exclusive) bound the time through the id", async () => {
      const ms = (r: ExecutionLog) => Date.parse(r.createdAt);
      const lo = A.rows[100]!;
      const hi = A.rows[160]!;
      const page = await repo.list(A.scriptId, { since: new Date(ms(lo)), until: new Date(ms(hi)), limit: 200 });
      expect(page.items.map((i) => i.id)).toEqual(newestFirst(A.rows.slice(100, 160)));
      const since = await repo.list(A.scriptId, { since: new Date(ms(A.rows[440]!)) });
      expect(since.items).toHaveLength(10);
      const until = await repo.list(A.scriptId, { until: new Date(ms(A.rows[3]!)), status: "error" });
      expect(until.items.map((i) => i.id)).toEqual([A.rows[0]!.id]);
      const none = await repo.list(A.scriptId, { since: new Date(ms(hi)), until: new Date(ms(lo)) });
      expect(none).toEqual({ items: [], nextCursor: null });
    });

    it("rejects a bad cursor, status or date; an unknown script has no rows", async () => {
      await expect(repo.list(A.scriptId, { cursor: "nope" })).rejects.toBeInstanceOf(InvalidLogsQueryError);
      await expect(repo.list(A.scriptId, { cursor: "AAAAAAAAAAAAAAAAAAAAAAAAAAAA" })).rejects.toThrow(/cursor/);
      await expect(repo.list(A.scriptId, { status: "weird" as ExecutionStatus })).rejects.toThrow(/status/);
      await expect(repo.list(A.scriptId, { since: new Date(Number.NaN) })).rejects.toThrow(/since/);
      expect(await repo.list(randomUUID())).toEqual({ items: [], nextCursor: null });
      expect(await repo.list("not-a-uuid")).toEqual({ items: [], nextCursor: null });
    });

    it("countCapped counts up to the cap", async () => {
      expect(await repo.countCapped(A.scriptId)).toEqual({ count: 450, capped: false });
      expect(await repo.countCapped(A.scriptId, { cap: 100 })).toEqual({ count: 100, capped: true });
      expect(await repo.countCapped(A.scriptId, { status: "error" })).toEqual({ count: 90, capped: false });
    });
  });

  describe("statsForScripts", () => {
    it("answers the last run and the runs and failures since a time", async () => {
      const since = new Date(Date.now() - 3600_000);
      const a = randomUUID();
      const b = randomUUID();
      const idle = randomUUID();
      const now = Date.now();
      const rows = [
        makeLog({ scriptId: a, ms: now - 2 * 3600_000, status: "error" }), // before `since`
        makeLog({ scriptId: a, ms: now - 600_000 }),
        makeLog({ scriptId: a, ms: now - 500_000, status: "timeout" }),
        makeLog({ scriptId: a, ms: now - 400_000, status: "error" }),
        makeLog({ scriptId: a, ms: now - 300_000 }),
        makeLog({ scriptId: b, ms: now - 5 * 3600_000, status: "budget_exceeded" }),
      ];
      await repo.insertBatch(rows);
      const stats = await repo.statsForScripts([a, b, idle, "not-a-uuid"], since);
      expect(stats.get(a)).toEqual({
        lastRun: { status: "success", createdAt: rows[4]!.createdAt },
        runs24h: 4,
        errors24h: 2,
      });
      expect(stats.get(b)).toEqual({
        lastRun: { status: "budget_exceeded", createdAt: rows[5]!.createdAt },
        runs24h: 0,
        errors24h: 0,
      });
      expect(stats.get(idle)).toEqual({ lastRun: null, runs24h: 0, errors24h: 0 });
      expect(stats.get("not-a-uuid")).toEqual({ lastRun: null, runs24h: 0, errors24h: 0 });
      expect((await repo.statsForScripts([], since)).size).toBe(0);
    });
  });

  describe("retention", () => {
    // Rows from 2001: older than anything the other tests write.
    const OLD = Date.UTC(2001, 0, 1);

    it("deleteOlderThan removes one batch of the oldest rows below the cutoff", async () => {
      const scriptId = randomUUID();
      const rows = Array.from({ length: 25 }, (_, i) => makeLog({ scriptId, ms: OLD + i * 1000 }));
      await repo.insertBatch(rows);
      const cutoff = new Date(OLD + 20 * 1000); // rows 0..19 are older
      expect(await repo.deleteOlderThan(cutoff, 8)).toBe(8);
      expect(await repo.get(rows[0]!.id)).toBeNull();
      expect(await repo.get(rows[8]!.id)).not.toBeNull();
      expect(await repo.deleteOlderThan(cutoff, 8)).toBe(8);
      expect(await repo.deleteOlderThan(cutoff, 8)).toBe(4);
      expect(await repo.deleteOlderThan(cutoff, 8)).toBe(0);
      expect(await repo.countCapped(scriptId)).toEqual({ count: 5, capped: false });
      await repo.deleteOlderThan(new Date(OLD + 3600_000), 100);
    });

    it("RetentionJob deletes everything older than its age in small batches, in the background", async () => {
      const scriptId = randomUUID();
      const old = Array.from({ length: 57 }, (_, i) => makeLog({ scriptId, ms: OLD + i }));
      const recent = makeLog({ scriptId, ms: Date.now() - 1000 });
      await repo.insertBatch([...old, recent]);
      const batches: number[] = [];
      const job = new RetentionJob({
        repository: {
          deleteOlderThan: async (cutoff, n) => {
            const d = await repo.deleteOlderThan(cutoff, n);
            batches.push(d);
            return d;
          },
        },
        maxAgeMs: 365 * DAY,
        batchSize: 10,
        pauseMs: 1,
        intervalMs: 60_000,
      });
      expect(await job.runOnce()).toBe(57);
      expect(batches).toEqual([10, 10, 10, 10, 10, 7]);
      expect(await repo.countCapped(scriptId)).toEqual({ count: 1, capped: false });

      // start() runs a pass at once and then on its interval; stop() waits for a running pass.
      await repo.insertBatch(old);
      job.start();
      for (let i = 0; i < 200 && (await repo.countCapped(scriptId)).count > 1; i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      await job.stop();
      expect(await repo.countCapped(scriptId)).toEqual({ count: 1, capped: false });
    });
  });

  it("uuid bounds and cursors round-trip", () => {
    const id = uuidv7At(Date.UTC(2030, 5, 1));
    expect(decodeCursor(encodeCursor(id))).toBe(id);
    expect(encodeCursor(id)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(uuidLowerBound(Date.UTC(2030, 5, 1)) <= id).toBe(true);
    expect(uuidLowerBound(Date.UTC(2030, 5, 1) + 1) > id).toBe(true);
    expect(uuidLowerBound(-5)).toBe("00000000-0000-0000-0000-000000000000");
  });
});
