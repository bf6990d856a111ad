/**
 * Logs API query benchmark: latency of the execution-logs repository's pages at a million
 * rows for one script, on real PostgreSQL, plus the EXPLAIN of each query.
 *
 *   node bench/logs-query.ts
 *
 * Creates and drops its own database on BENCH_PG_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres). The rows are built in SQL (generate_series):
 * BENCH_LOGS_ROWS (1,000,000) for the measured script, plus 10% more spread over 20 other
 * scripts; realistic row sizes (headers, small bodies, 2-3 log lines). Then VACUUM ANALYZE
 * (what autovacuum does to an insert-only table). BENCH_LOGS_ITER (300) timed calls per query,
 * after 30 warm-up calls; every call goes through `ExecutionLogsRepository` (SQL build, round
 * trip over postgres-js, row mapping).
 */
import { randomBytes } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { openDatabase, rawQuery } from "../packages/manager-core/src/db/database.ts";
import { ExecutionLogsRepository } from "../packages/manager-core/src/logs/execution-logs-repository.ts";
import { explainPlan, type PlanNode } from "../packages/manager-core/src/logs/explain.ts";
import { encodeCursor } from "../packages/manager-core/src/logs/uuid-bounds.ts";

const ADMIN_URL = process.env["BENCH_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres";
const ROWS = Number(process.env["BENCH_LOGS_ROWS"] ?? 1_000_000);
const ITER = Number(process.env["BENCH_LOGS_ITER"] ?? 300);
const TARGET_P99_MS = 20;
const SCRIPT = "0195f000-0000-7000-8000-00000000a11a";

function urlFor(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

function describePlan(n: PlanNode): string {
  const parts: string[] = [];
  const walk = (p: PlanNode) => {
    if (p["Relation Name"] === "execution_logs" || p["Index Name"]) {
      parts.push(`${p["Node Type"]}${p["Index Name"] ? ` ${p["Index Name"]}` : ""}`);
    }
    for (const c of p.Plans ?? []) walk(c);
  };
  walk(n);
  return parts.join(" + ");
}

function hasSeqScan(n: PlanNode): boolean {
  if (n["Node Type"] === "Seq Scan" && n["Relation Name"] === "execution_logs") return true;
  return (n.Plans ?? []).some(hasSeqScan);
}

const dbName = `picloud_bench_logs_${randomBytes(4).toString("hex")}`;
const admin = await openDatabase({ url: ADMIN_URL, maxConnections: 1 });
await rawQuery(admin.db, `create database "${dbName}"`);
const database = await openDatabase({ url: urlFor(dbName), maxConnections: 2 });

interface Row {
  name: string;
  min: number;
  p50: number;
  p99: number;
  max: number;
  rows: number;
  plan: string;
  seq: boolean;
}
const out: Row[] = [];
let loadNote = "";

try {
  await database.migrate();
  const repo = new ExecutionLogsRepository(database.db);
  const t0 = Date.now() - 7 * 24 * 3600 * 1000; // a week ago, then ~one row per 0.6 s
  const others = Math.round(ROWS / 10);
  const g0 = performance.now();
  await rawQuery(
    database.db,
    `insert into execution_logs (id, script_id, script_name, version, trigger, status, reason, request, response,
       logs, logs_truncated, error, duration_ms, cpu_ms, node_id, created_at)
     select
       (lpad(to_hex(ms), 12, '0') || '7' || substr(replace(gen_random_uuid()::text, '-', ''), 14))::uuid,
       case when g <= ${ROWS} then '${SCRIPT}'::uuid
         else ('0195f000-0000-7000-8000-0000000000' || lpad(to_hex(g % 20), 2, '0'))::uuid end,
       'orders-api', 3, 'http', st,
       case st when 'success' then 'ok' when 'error' then 'script_threw' else 'wall_time' end,
       jsonb_build_object('method', 'POST', 'path', '/orders/' || g, 'query', '?expand=items',
         'headers', jsonb_build_object('content-type', 'application/json', 'user-agent', 'curl/8.5.0',
           'accept', '*/*', 'authorization', '[redacted]'),
         'body', '{"item":"book","qty":2}', 'bodyEncoding', 'utf8', 'bodySize', 23, 'bodyTruncated', false),
       case when st = 'success' then jsonb_build_object('status', 200,
         'headers', jsonb_build_object('content-type', 'application/json', 'x-request-id', 'r-' || g),
         'body', '{"ok":true,"total":24.5}', 'bodyEncoding', 'utf8', 'bodySize', 24, 'bodyTruncated', false) end,
       jsonb_build_array(
         jsonb_build_object('level', 'info', 'message', 'order received', 'data', jsonb_build_object('qty', 2), 'ts', ms),
         jsonb_build_object('level', 'debug', 'message', 'price lookup', 'ts', ms + 1))
         || case when st = 'success' then '[]'::jsonb
            else jsonb_build_array(jsonb_build_object('level', 'error', 'message', 'lookup failed', 'ts', ms + 2)) end,
       false,
       case when st = 'success' then null else jsonb_build_object('name', 'Error', 'message', 'lookup failed',
         'stack', 'Error: lookup failed\n    at handler (script.js:3:9)') end,
       12.5, 3.25, 'node-a', to_timestamp(ms / 1000.0)
     from (
       select g, ${t0}::bigint + (g::bigint * 604800000 / ${ROWS + others}) as ms,
         case when g % 20 = 7 then 'error' when g % 97 = 0 then 'timeout' else 'success' end as st
       from generate_series(1, ${ROWS + others}) g
     ) s
     order by ms`,
  );
  const g1 = performance.now();
  await rawQuery(database.db, "vacuum analyze execution_logs");
  // Write the bulk load's dirty pages out now rather than during the measurement.
  await rawQuery(database.db, "checkpoint");
  const g2 = performance.now();
  const [size] = await rawQuery<{ s: string }>(
    database.db,
    "select pg_size_pretty(pg_total_relation_size('execution_logs')) as s",
  );
  process.stderr.write(
    `generated ${(ROWS + others).toLocaleString("en")} rows in ${((g1 - g0) / 1000).toFixed(1)} s, ` +
      `vacuum analyze + checkpoint ${((g2 - g1) / 1000).toFixed(1)} s, table + indexes ${size?.s}\n`,
  );

  const middle = await repo.list(SCRIPT, { limit: 1, offset: Math.floor(ROWS / 2) });
  const cursor = encodeCursor(middle.items[0]!.id);
  const one = (await repo.list(SCRIPT, { limit: 1, offset: 1234 })).items[0]!.id;
  const since = new Date(t0 + 3 * 24 * 3600 * 1000);

  const cases: { name: string; run: () => Promise<number>; query: () => Parameters<typeof explainPlan>[1] }[] = [];
  const listCase = (name: string, opts: Parameters<ExecutionLogsRepository["list"]>[1]) => {
    cases.push({
      name,
      run: async () => (await repo.list(SCRIPT, opts)).items.length,
      query: () => repo.listQuery(SCRIPT, opts)!.query,
    });
  };
  listCase("first page (limit 50)", { limit: 50 });
  listCase("first page (limit 200)", { limit: 200 });
  listCase("offset 1,000 (limit 50)", { limit: 50, offset: 1_000 });
  listCase("deep offset 10,000 (limit 50)", { limit: 50, offset: 10_000 });
  listCase("deep offset 100,000 (limit 50)", { limit: 50, offset: 100_000 });
  listCase("cursor page at row 500,000 (limit 50)", { limit: 50, cursor });
  listCase("status=error first page (limit 50)", { limit: 50, status: "error" });
  listCase("status=error cursor page (limit 50)", { limit: 50, status: "error", cursor });
  listCase("since 3 days ago + until (limit 50)", { limit: 50, since, until: new Date(since.getTime() + 3600_000) });
  const scriptIds = [
    SCRIPT,
    ...Array.from({ length: 20 }, (_, i) => `0195f000-0000-7000-8000-0000000000${i.toString(16).padStart(2, "0")}`),
  ];
  const dayAgo = new Date(t0 + 6 * 24 * 3600 * 1000);
  cases.push({
    name: "dashboard stats, 21 scripts, last 24 h",
    run: async () => (await repo.statsForScripts(scriptIds, dayAgo)).size,
    query: () => repo.statsQuery(scriptIds, dayAgo),
  });
  cases.push({
    name: "get one execution (whole record)",
    run: async () => ((await repo.get(one)) ? 1 : 0),
    query: () => repo.getQuery(one),
  });

  // Calls go round-robin over the queries, so a noisy moment on the machine hits them alike.
  const plans = [];
  for (const c of cases) plans.push(await explainPlan(database.db, c.query(), { analyze: true }));
  for (let i = 0; i < 30; i++) for (const c of cases) await c.run();
  const times: number[][] = cases.map(() => []);
  const rows: number[] = cases.map(() => 0);
  const load0 = loadavg()[0] ?? 0;
  for (let i = 0; i < ITER; i++) {
    for (const [k, c] of cases.entries()) {
      const s = performance.now();
      rows[k] = await c.run();
      times[k]!.push(performance.now() - s);
    }
  }
  const load1 = loadavg()[0] ?? 0;
  loadNote = `load average (1 min) ${load0.toFixed(1)} at start, ${load1.toFixed(1)} at end, on ${cpus().length} CPUs`;
  for (const [k, c] of cases.entries()) {
    const ts = times[k]!.sort((a, b) => a - b);
    const q = (p: number) => ts[Math.min(ts.length - 1, Math.floor(p * ts.length))]!;
    const plan = plans[k]!;
    out.push({
      name: c.name,
      min: ts[0]!,
      p50: q(0.5),
      p99: q(0.99),
      max: ts[ts.length - 1]!,
      rows: rows[k]!,
      plan: describePlan(plan),
      seq: hasSeqScan(plan),
    });
    process.stderr.write(`${c.name}: p50 ${q(0.5).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms\n`);
  }
} finally {
  await database.close();
  await rawQuery(admin.db, `drop database if exists "${dbName}" with (force)`).catch(() => {});
  await admin.close();
}

console.log(
  `\nLogs API: repository query latency at ${ROWS.toLocaleString("en")} rows for one script ` +
    `(+10% for 20 others), ${ITER} calls each, target p99 < ${TARGET_P99_MS} ms; ${loadNote}\n`,
);
console.log("| query | min ms | p50 ms | p99 ms | max ms | rows | plan on execution_logs |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
for (const r of out) {
  console.log(
    `| ${r.name} | ${r.min.toFixed(2)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} | ${r.rows} | ${r.plan}${r.seq ? " **SEQ SCAN**" : ""} |`,
  );
}
const key = out.filter((r) =>
  ["first page (limit 50)", "deep offset 10,000 (limit 50)", "cursor page at row 500,000 (limit 50)"].includes(r.name),
);
console.log(
  `\nfirst page, deep offset (10,000) and cursor page: p99 ${key.map((r) => r.p99.toFixed(2)).join(" / ")} ms — ${
    key.every((r) => r.p99 < TARGET_P99_MS) ? "meets" : "MISSES"
  } the ${TARGET_P99_MS} ms target; sequential scans: ${out.some((r) => r.seq) ? "YES" : "none"}`,
);
process.exit(0);
