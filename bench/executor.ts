/**
 * Executor benchmark. Run from the repository root on Node 24:
 *   node --no-node-snapshot bench/executor.ts
 * Prints a table: cold start, warm overhead, warm throughput against a plain Node
 * function, and resident memory per warm idle isolate with 1,000 scripts loaded.
 * Figures, not assertions: the machine this runs on is shared and noisy.
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { compileScript, InProcessExecutor, ProcessExecutor } from "../packages/executor-core/src/index.ts";
import { DEFAULT_BUDGETS, type Executor, type InvocationRequest } from "../packages/shared/src/index.ts";

const HELLO = `export default (req: Request) => new Response("hello")`;
const COLD_RUNS = Number(process.env["BENCH_COLD"] ?? 100);
const WARM_RUNS = Number(process.env["BENCH_WARM"] ?? 2000);
const THROUGHPUT_MS = Number(process.env["BENCH_THROUGHPUT_MS"] ?? 3000);
const SCRIPTS = Number(process.env["BENCH_SCRIPTS"] ?? 1000);

function req(id: string, code: string, version = 1): InvocationRequest {
  return {
    executionId: `bench-${id}`,
    script: { id, name: "bench", version, code },
    env: {},
    budgets: { ...DEFAULT_BUDGETS, wallTimeMs: 30_000, cpuTimeMs: 5_000 },
    request: { method: "GET", url: "https://bench.test/", headers: [], body: null },
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}
const f = (n: number, d = 2): string => n.toFixed(d);

async function invokeOk(ex: Executor, r: InvocationRequest): Promise<number> {
  const t = performance.now();
  const o = await ex.invoke(r);
  if (o.status !== "success") throw new Error(`bench invocation failed: ${o.reason} ${o.error?.message}`);
  return performance.now() - t;
}

async function coldStart(ex: Executor, label: string): Promise<string[]> {
  const times: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    const { code } = compileScript(`${HELLO} // ${label} ${i}`); // a freshly saved version
    times.push(await invokeOk(ex, req(`cold-${label}-${i}`, code)));
  }
  for (let i = 0; i < COLD_RUNS; i++) ex.evict(`cold-${label}-${i}`);
  return [
    `cold start (${label}), first invocation of a new version`,
    `p50 ${f(pct(times, 50))} ms`,
    `p99 ${f(pct(times, 99))} ms`,
    `n=${COLD_RUNS}`,
  ];
}

async function warmOverhead(ex: Executor, label: string): Promise<{ row: string[]; perCall: number }> {
  const { code } = compileScript(HELLO);
  const r = req(`warm-${label}`, code);
  for (let i = 0; i < 50; i++) await invokeOk(ex, r);
  const times: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < WARM_RUNS; i++) times.push(await invokeOk(ex, r));
  const mean = (performance.now() - t0) / WARM_RUNS;
  return {
    row: [
      `warm invocation (${label}), sequential`,
      `mean ${f(mean, 3)} ms`,
      `p50 ${f(pct(times, 50), 3)} / p99 ${f(pct(times, 99), 3)} ms`,
      `n=${WARM_RUNS}`,
    ],
    perCall: mean,
  };
}

async function throughput(run: () => Promise<unknown>, concurrency: number): Promise<number> {
  let done = 0;
  const end = performance.now() + THROUGHPUT_MS;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await run();
        done++;
      }
    }),
  );
  return done / (THROUGHPUT_MS / 1000);
}

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? Number.NaN) / 1024;
}

async function main(): Promise<void> {
  const rows: string[][] = [];
  const concurrency = 8;
  const proc = new ProcessExecutor({
    stdio: "inherit",
    maxIsolatesPerVersion: 4,
    maxIsolates: SCRIPTS + 200,
    maxTotalMemoryMb: 16_384,
  });
  const inproc = new InProcessExecutor({ maxIsolatesPerVersion: 4, maxIsolates: 200 });
  await proc.ready();

  rows.push(await coldStart(proc, "process"));
  rows.push(await coldStart(inproc, "in-process"));
  const wp = await warmOverhead(proc, "process");
  const wi = await warmOverhead(inproc, "in-process");
  rows.push(wp.row, wi.row);

  // The baseline: the same handler as a plain function in this Node process.
  const plain = async (_r: Request): Promise<Response> => new Response("hello");
  const plainRun = async (): Promise<unknown> => {
    const res = await plain(new Request("https://bench.test/"));
    return new Uint8Array(await res.arrayBuffer());
  };
  const { code } = compileScript(HELLO);
  const tp = await throughput(() => proc.invoke(req("tp-process", code)), concurrency);
  const ti = await throughput(() => inproc.invoke(req("tp-inproc", code)), concurrency);
  const tn = await throughput(plainRun, concurrency);
  rows.push([
    `warm throughput, hello world, ${concurrency} in flight`,
    `process ${f(tp, 0)}/s`,
    `in-process ${f(ti, 0)}/s`,
    `plain Node fn ${f(tn, 0)}/s`,
  ]);
  rows.push([
    "throughput ratio vs plain Node function",
    `process 1:${f(tn / tp, 0)}`,
    `in-process 1:${f(tn / ti, 0)}`,
    "",
  ]);
  await inproc.close();

  // Memory: child RSS before and after 1,000 distinct scripts each got one warm isolate.
  for (const s of ["tp-process", "warm-process"]) proc.evict(s);
  await new Promise((r) => setTimeout(r, 500));
  const before = rssMb(proc.pid);
  const t0 = performance.now();
  for (let i = 0; i < SCRIPTS; i++) {
    const c = compileScript(`let n = 0; export default (req: Request) => new Response("script ${i} " + ++n)`).code;
    await invokeOk(proc, req(`mem-${i}`, c));
  }
  const loadMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 1000));
  const after = rssMb(proc.pid);
  const warm = proc.stats().isolatesWarm;
  rows.push([
    `resident memory, ${SCRIPTS} scripts loaded (child process RSS)`,
    `${f(before, 0)} MB -> ${f(after, 0)} MB`,
    `${f(((after - before) * 1024) / SCRIPTS, 0)} KB per warm idle isolate`,
    `${warm} isolates, loaded in ${f(loadMs / 1000, 1)} s`,
  ]);
  await proc.close();

  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  console.log(`\nExecutor benchmark: Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"})\n`);
  for (const r of rows) console.log(`| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
