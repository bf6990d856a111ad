/**
 * Sink benchmark: sustained rows/s the Postgres execution-log sink writes to a real
 * PostgreSQL database, with realistic rows (a few headers, small bodies, 2-3 log lines).
 *
 *   node bench/sink.ts
 *
 * Creates and drops its own database on BENCH_PG_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres). Knobs: BENCH_SINK_SECONDS (per run, 8),
 * BENCH_SINK_RUNS (comma list of batchSize x concurrency, "500x2,500x1,500x4,1000x2,200x2").
 *
 * The producer writes as fast as it can while keeping the sink's memory queue under half of
 * maxBuffered (so what is measured is what the database path sustains, not spilling); each
 * row gets a fresh UUIDv7. write() cost is timed around the calls (the request-path cost).
 *
 * BENCH_SINK_COMPARE=<module path> runs every configuration a second time with the
 * `PostgresExecutionLogSink` that module exports (e.g. an earlier version of the sink; see
 * docs/benchmarks.md "Sink"), interleaved with this tree's, so that both are measured under
 * the same load.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openDatabase, rawQuery } from "../packages/manager-core/src/db/database.ts";
import { ExecutionLogsRepository } from "../packages/manager-core/src/logs/execution-logs-repository.ts";
import { PostgresExecutionLogSink } from "../packages/manager-core/src/sink/postgres-sink.ts";
import { type ExecutionLog, uuidv7 } from "../packages/shared/src/index.ts";
import { makeLog } from "../packages/testing/src/fixtures.ts";

const ADMIN_URL = process.env["BENCH_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres";
const SECONDS = Number(process.env["BENCH_SINK_SECONDS"] ?? 8);
/** Runs as batchSize x concurrency; the first is the default configuration. */
const RUNS = (process.env["BENCH_SINK_RUNS"] ?? "500x2,500x1,500x4,1000x2,200x2").split(",").map((r) => {
  const [b, c] = r.split("x").map(Number);
  return { batchSize: b ?? 500, concurrency: c ?? 2 };
});
const TARGET = 20_000;

type SinkClass = new (
  o: ConstructorParameters<typeof PostgresExecutionLogSink>[0],
) => {
  write(log: ExecutionLog): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): { buffered: number; written: number; failed: number; dropped: number; spilled: number };
};
const IMPLS: { name: string; Sink: SinkClass }[] = [{ name: "this tree", Sink: PostgresExecutionLogSink }];
const COMPARE = process.env["BENCH_SINK_COMPARE"];
if (COMPARE) {
  const mod = (await import(resolve(COMPARE))) as { PostgresExecutionLogSink: SinkClass };
  IMPLS.push({ name: "baseline", Sink: mod.PostgresExecutionLogSink });
}

function urlFor(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

const dbName = `picloud_bench_sink_${randomBytes(4).toString("hex")}`;
const admin = await openDatabase({ url: ADMIN_URL, maxConnections: 1 });
await rawQuery(admin.db, `create database "${dbName}"`);
const database = await openDatabase({ url: urlFor(dbName), maxConnections: 4 });
const dataDir = await mkdtemp(join(tmpdir(), "picloud-bench-sink-"));

interface Result {
  impl: string;
  batchSize: number;
  concurrency: number;
  rows: number;
  seconds: number;
  rowsPerSec: number;
  writeNs: number;
  inDb: number;
  failed: number;
  dropped: number;
  spilled: number;
}

const results: Result[] = [];
try {
  await database.migrate();
  const repo = new ExecutionLogsRepository(database.db);
  // 1000 templates over 20 scripts, mixed outcomes; each write clones one with a new id.
  const scripts = Array.from({ length: 20 }, () => randomUUID());
  const now = Date.now();
  const templates: ExecutionLog[] = Array.from({ length: 1000 }, (_, i) =>
    makeLog({
      scriptId: scripts[i % scripts.length]!,
      ms: now + i,
      status: i % 17 === 0 ? "error" : i % 53 === 0 ? "timeout" : "success",
    }),
  );
  const bytes = templates.reduce((s, t) => s + Buffer.byteLength(JSON.stringify(t)), 0) / templates.length;
  process.stderr.write(`rows are ~${Math.round(bytes)} bytes of JSON each\n`);

  for (const [round, { batchSize, concurrency }] of RUNS.entries()) {
    // Alternate which implementation goes first, so that neither always runs on a warmer database.
    const order = round % 2 === 0 ? IMPLS : [...IMPLS].reverse();
    for (const { name: impl, Sink } of order) {
      await rawQuery(database.db, "truncate execution_logs");
      const maxBuffered = 10_000;
      const sink = new Sink({
        repository: repo,
        dataDir: join(dataDir, `${impl.replace(" ", "-")}-${batchSize}x${concurrency}`),
        batchSize,
        concurrency,
        maxBuffered,
        logger: { info: () => {}, warn: (o, m) => console.error("warn", m, o), error: (o, m) => console.error(m, o) },
      });
      let n = 0;
      let writeTime = 0;
      const t0 = performance.now();
      const end = t0 + SECONDS * 1000;
      const chunk: ExecutionLog[] = new Array(250);
      while (performance.now() < end) {
        if (sink.stats().buffered < maxBuffered / 2) {
          for (let i = 0; i < chunk.length; i++) {
            const tmpl = templates[(n + i) % templates.length]!;
            chunk[i] = { ...tmpl, id: uuidv7(), createdAt: new Date().toISOString() };
          }
          const w0 = performance.now();
          for (const row of chunk) sink.write(row);
          writeTime += performance.now() - w0;
          n += chunk.length;
          await new Promise((r) => setImmediate(r));
        } else {
          // Enough queued: let the database path work rather than spin.
          await new Promise((r) => setTimeout(r, 2));
        }
      }
      await sink.flush();
      const seconds = (performance.now() - t0) / 1000;
      await sink.close();
      const s = sink.stats();
      const [c] = await rawQuery<{ n: number }>(database.db, "select count(*)::int as n from execution_logs");
      results.push({
        impl,
        batchSize,
        concurrency,
        rows: n,
        seconds,
        rowsPerSec: s.written / seconds,
        writeNs: (writeTime * 1e6) / n,
        inDb: Number(c?.n ?? 0),
        failed: s.failed,
        dropped: s.dropped,
        spilled: s.spilled,
      });
      process.stderr.write(
        `${impl}, batch ${batchSize} x ${concurrency}: ${Math.round(s.written / seconds).toLocaleString("en")} rows/s\n`,
      );
    }
  }
} finally {
  await database.close();
  await rawQuery(admin.db, `drop database if exists "${dbName}" with (force)`).catch(() => {});
  await admin.close();
  await rm(dataDir, { recursive: true, force: true });
}

const fmt = (x: number) => Math.round(x).toLocaleString("en");
console.log(
  `\nSink: sustained write throughput to PostgreSQL (${SECONDS} s per run, target >= ${fmt(TARGET)} rows/s)\n`,
);
console.log(
  "| sink | batch size | in flight | rows written | seconds | rows/s | write() cost | rows in DB | failed | dropped | spilled |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of results) {
  console.log(
    `| ${r.impl} | ${r.batchSize} | ${r.concurrency} | ${fmt(r.rows)} | ${r.seconds.toFixed(1)} | ${fmt(r.rowsPerSec)} | ${Math.round(r.writeNs)} ns | ${fmt(r.inDb)} | ${r.failed} | ${r.dropped} | ${r.spilled} |`,
  );
}
// A configuration listed more than once (to take several samples) is summarised by its median.
const configs = [...new Set(RUNS.map((r) => `${r.batchSize}x${r.concurrency}`))];
const median = (impl: string, config: string): number => {
  const xs = results
    .filter((r) => r.impl === impl && `${r.batchSize}x${r.concurrency}` === config)
    .map((r) => r.rowsPerSec)
    .sort((a, b) => a - b);
  return xs.length === 0 ? 0 : ((xs[(xs.length - 1) >> 1] ?? 0) + (xs[xs.length >> 1] ?? 0)) / 2;
};
for (const { name } of IMPLS) {
  const def = median(name, configs[0] ?? "");
  console.log(
    `\n${name}, default (${configs[0]}): median ${fmt(def)} rows/s — ${def >= TARGET ? "meets" : "BELOW"} the ${fmt(TARGET)} rows/s target`,
  );
}
if (IMPLS.length > 1) {
  const ratios = configs.map((c) => `${c}: ${(median("this tree", c) / median("baseline", c)).toFixed(2)}`);
  console.log(`this tree / baseline, median rows/s: ${ratios.join(", ")}`);
}
console.log(`every row accounted for: ${results.every((r) => r.inDb === r.rows)}`);
process.exit(0);
