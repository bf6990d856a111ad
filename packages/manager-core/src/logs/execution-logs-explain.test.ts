import { createTestDatabase, type TestDatabase } from "@picloud/testing";
import type { SQL, SQLWrapper } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase, rawQuery } from "../db/database.ts";
import { ExecutionLogsRepository } from "./execution-logs-repository.ts";
import { explainPlan, type PlanNode, planNodes } from "./explain.ts";
import { encodeCursor } from "./uuid-bounds.ts";

/**
 * At a million rows, on real PostgreSQL: every logs query is served from an index,
 * never a sequential scan of execution_logs (issue 4 point 4). The rows are built in SQL
 * (generate_series), not in JS. Set PICLOUD_EXPLAIN_ROWS to use another count.
 */
const ROWS = Number(process.env["PICLOUD_EXPLAIN_ROWS"] ?? 1_000_000);
const BUSY = "00000000-0000-4000-8000-00000000000a"; // 98% of the rows
const QUIET = "00000000-0000-4000-8000-00000000000b"; // 2%
const OTHER = "00000000-0000-4000-8000-00000000000c"; // none

describe(`logs queries at ${ROWS.toLocaleString("en")} rows (PostgreSQL)`, () => {
  let tdb: TestDatabase;
  let database: Database;
  let repo: ExecutionLogsRepository;
  let t0 = 0;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    database = await openDatabase({ url: tdb.url, maxConnections: 2 });
    repo = new ExecutionLogsRepository(database.db);
    t0 = Date.now() - ROWS - 60_000; // one row per millisecond, ending a minute ago
    await rawQuery(
      database.db,
      `insert into execution_logs (id, script_id, script_name, version, trigger, status, reason, request, response,
         logs, logs_truncated, error, duration_ms, cpu_ms, node_id, created_at)
       select
         (lpad(to_hex(${t0} + g), 12, '0') || '7' || substr(replace(gen_random_uuid()::text, '-', ''), 14))::uuid,
         case when g % 50 = 0 then '${QUIET}'::uuid else '${BUSY}'::uuid end,
         'hello', 1, 'http',
         case when g % 20 = 1 then 'error' when g % 97 = 0 then 'timeout' else 'success' end,
         'ok',
         '{"method":"GET","path":"/","query":"","headers":{"accept":"*/*"},"body":null,"bodyEncoding":"utf8","bodySize":0,"bodyTruncated":false}'::jsonb,
         '{"status":200,"headers":{"content-type":"application/json"},"body":"{}","bodyEncoding":"utf8","bodySize":2,"bodyTruncated":false}'::jsonb,
         '[{"level":"info","message":"hi","ts":0}]'::jsonb, false, null, 1.5, 0.5, 'n1',
         to_timestamp((${t0} + g) / 1000.0)
       from generate_series(1, ${ROWS}) g`,
    );
    await rawQuery(database.db, "vacuum analyze execution_logs");
  }, 180_000);

  afterAll(async () => {
    await database?.close();
    await tdb?.drop();
  });

  async function plan(q: SQLWrapper | SQL): Promise<PlanNode[]> {
    return planNodes(await explainPlan(database.db, q));
  }

  function expectIndexOnly(all: PlanNode[], indexes: string[]) {
    const onLogs = all.filter((n) => n["Relation Name"] === "execution_logs" && n["Node Type"] !== "ModifyTable");
    expect(onLogs.length).toBeGreaterThan(0);
    expect(onLogs.filter((n) => n["Node Type"] === "Seq Scan" || n["Node Type"].startsWith("Bitmap Heap"))).toEqual([]);
    for (const n of onLogs) {
      expect(["Index Scan", "Index Only Scan"]).toContain(n["Node Type"]);
      expect(indexes, JSON.stringify(all.map((x) => [x["Node Type"], x["Index Name"]]))).toContain(n["Index Name"]);
    }
  }

  const listPlan = (scriptId: string, opts: Parameters<ExecutionLogsRepository["listQuery"]>[1]) => {
    const q = repo.listQuery(scriptId, opts);
    if (!q) throw new Error("no query");
    return plan(q.query);
  };
  const BY_SCRIPT = ["execution_logs_script_id_idx", "execution_logs_pkey"];
  const BY_STATUS = ["execution_logs_script_status_id_idx", "execution_logs_pkey"];

  it("has the rows", async () => {
    const [r] = await rawQuery<{ n: number }>(database.db, "select count(*)::int as n from execution_logs");
    expect(Number(r?.n)).toBe(ROWS);
  });

  it("first page, offset page, cursor page: the (script_id, id) index", async () => {
    expectIndexOnly(await listPlan(BUSY, { limit: 50 }), BY_SCRIPT);
    expectIndexOnly(await listPlan(BUSY, { limit: 200, offset: 5000 }), BY_SCRIPT);
    expectIndexOnly(await listPlan(QUIET, { limit: 50, offset: 100 }), BY_SCRIPT);
    const page = await repo.list(BUSY, { limit: 50, offset: Math.floor(ROWS / 5) });
    expect(page.items).toHaveLength(50);
    const cursor = encodeCursor(page.items[49]!.id);
    expectIndexOnly(await listPlan(BUSY, { limit: 50, cursor }), BY_SCRIPT);
    const next = await repo.list(BUSY, { limit: 50, cursor });
    expect(next.items[0]!.id < page.items[49]!.id).toBe(true);
    expectIndexOnly(await listPlan(OTHER, { limit: 50 }), BY_SCRIPT);
  });

  it("status-filtered pages: the (script_id, status, id) index", async () => {
    expectIndexOnly(await listPlan(BUSY, { status: "error", limit: 50 }), BY_STATUS);
    expectIndexOnly(await listPlan(BUSY, { status: "timeout", limit: 50, offset: 1000 }), BY_STATUS);
    const p = await repo.list(BUSY, { status: "error", limit: 50 });
    expect(p.items.every((i) => i.status === "error")).toBe(true);
    expectIndexOnly(await listPlan(BUSY, { status: "error", limit: 50, cursor: p.nextCursor! }), BY_STATUS);
  });

  it("time-bounded pages use the same indexes", async () => {
    const since = new Date(t0 + ROWS / 2);
    const until = new Date(t0 + ROWS / 2 + 60_000);
    expectIndexOnly(await listPlan(BUSY, { since, until, limit: 50 }), BY_SCRIPT);
    expectIndexOnly(await listPlan(BUSY, { since, status: "error", limit: 50 }), BY_STATUS);
  });

  it("get, dashboard stats and retention use indexes", async () => {
    const first = (await repo.list(QUIET, { limit: 1 })).items[0]!;
    expectIndexOnly(await plan(repo.getQuery(first.id)), ["execution_logs_pkey"]);
    expect((await repo.get(first.id))?.id).toBe(first.id);
    expectIndexOnly(await plan(repo.statsQuery([BUSY, QUIET, OTHER], new Date(Date.now() - 3600_000))), [
      "execution_logs_script_id_idx",
      "execution_logs_script_status_id_idx",
    ]);
    expectIndexOnly(await plan(repo.deleteQuery(new Date(t0 + 10_000), 1000)), ["execution_logs_pkey"]);
  });
});
