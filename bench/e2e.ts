/**
 * End-to-end benchmark (issue 7). Run from the repository root on Node 24:
 *   node bench/e2e.ts            (or `pnpm run bench`, which runs every benchmark)
 *
 * Side by side in one run, alternating the systems (A B C D A B C D …) and reporting
 * medians, under wrk on loopback:
 *   - bare Hono route on @hono/node-server (bench/e2e-hono.ts), in-process handler;
 *   - the same handler in workerd (bench/workerd/);
 *   - PiCloud single process (bench/e2e-server.ts = the all-in-one server), a hello-world
 *     script through /api/execute, with the PostgreSQL sink on and with the null sink.
 * Then, on PiCloud: cold start (a saved new version to its first response, 200 versions,
 * with a warm call after each for comparison) and density (executor child RSS with 1,000
 * distinct scripts warm).
 *
 * Needs wrk (apt-get install wrk) and PostgreSQL (PICLOUD_BENCH_PG_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres): it creates and drops its own databases.
 * Figures, not assertions: the machine is shared and noisy; the ratios within one run count.
 *
 * Knobs (env): BENCH_E2E_SECONDS (5) per run, BENCH_E2E_ROUNDS (3), BENCH_E2E_CONNECTIONS (16),
 * BENCH_E2E_COLD (200), BENCH_E2E_SCRIPTS (1000), BENCH_E2E_ONLY (comma list of
 * hono,workerd,picloud-sink,picloud-nosink,cold,density), BENCH_E2E_PROFILE=1 (PiCloud runs
 * with --cpu-prof into /tmp/picloud-prof).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// postgres is a dependency of @picloud/testing, not of the workspace root: resolve it from there.
type Sql = { unsafe(q: string): Promise<unknown>; end(): Promise<void> };
const postgres = (
  (await import(createRequire(new URL("../packages/testing/package.json", import.meta.url)).resolve("postgres"))) as {
    default: (url: string, o: object) => Sql;
  }
).default;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = Number(process.env["BENCH_E2E_SECONDS"] ?? 5);
const ROUNDS = Number(process.env["BENCH_E2E_ROUNDS"] ?? 3);
const CONNECTIONS = Number(process.env["BENCH_E2E_CONNECTIONS"] ?? 16);
const COLD = Number(process.env["BENCH_E2E_COLD"] ?? 200);
const SCRIPTS = Number(process.env["BENCH_E2E_SCRIPTS"] ?? 1000);
const ONLY = new Set(
  (process.env["BENCH_E2E_ONLY"] ?? "hono,workerd,picloud-sink,picloud-nosink,cold,density").split(","),
);
const PROFILE = process.env["BENCH_E2E_PROFILE"] === "1";
const DENSITY_MEMORY_MB = process.env["BENCH_E2E_DENSITY_MEMORY_MB"] ?? "4096";
const PG_URL = process.env["PICLOUD_BENCH_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres";
const TOKEN = "bench-admin-token-0123456789abcdef";
const NODE = process.execPath;
const WORKERD = join(ROOT, "node_modules", ".bin", "workerd");

/** The hello-world script: reads the body, returns JSON (the same work as both baselines). */
const HELLO = `export default async function (req: Request): Promise<Response> {
  const body = await req.text();
  return Response.json({ hello: "world", received: body.length });
}`;
const BODY = JSON.stringify({ name: "bench", n: 1 });

const children = new Set<ChildProcess>();
const dirs: string[] = [];
const databases: string[] = [];

function log(line: string): void {
  process.stderr.write(`[e2e] ${line}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}
const median = (xs: number[]): number => pct(xs, 50);
const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : "n/a");

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? res(a.port) : rej(new Error("no port"))));
    });
  });
}

async function waitFor(url: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status < 500) return;
    } catch {}
    if (Date.now() > until) throw new Error(`${url} did not come up in ${timeoutMs} ms`);
    await sleep(100);
  }
}

function start(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const c = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let tail = "";
  c.stderr?.on("data", (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000);
  });
  c.once("exit", (code, sig) => {
    children.delete(c);
    if (!stopping) log(`${cmd} ${args.join(" ")} exited early (${code ?? sig}):\n${tail}`);
  });
  children.add(c);
  return c;
}

let stopping = false;
async function stopAll(): Promise<void> {
  stopping = true;
  await Promise.all(
    [...children].map(
      (c) =>
        new Promise<void>((res) => {
          if (c.exitCode !== null || c.signalCode !== null) return res();
          const t = setTimeout(() => c.kill("SIGKILL"), 20_000);
          c.once("exit", () => {
            clearTimeout(t);
            res();
          });
          c.kill("SIGTERM");
        }),
    ),
  );
}

async function createDatabase(): Promise<string> {
  const name = `picloud_bench_${randomBytes(5).toString("hex")}`;
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`create database "${name}"`);
  } finally {
    await sql.end();
  }
  databases.push(name);
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function dropDatabases(): Promise<void> {
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    for (const d of databases) await sql.unsafe(`drop database if exists "${d}" with (force)`);
  } finally {
    await sql.end();
  }
}

/** Process ids of a process and all its descendants (Linux /proc). */
function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const p = out[i] as number;
    try {
      for (const t of execFileSync("ls", [`/proc/${p}/task`])
        .toString()
        .split(/\s+/)
        .filter(Boolean)) {
        const kids = readFileSync(`/proc/${p}/task/${t}/children`, "utf8").trim();
        if (kids) out.push(...kids.split(/\s+/).map(Number));
      }
    } catch {}
  }
  return out;
}

/** CPU seconds (user + system) used so far by a process tree. */
function cpuSeconds(pid: number, only = false): number {
  let ticks = 0;
  for (const p of only ? [pid] : tree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {}
  }
  return ticks / 100;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? Number.NaN) / 1024;
}

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  cpuMsPerReq: number;
  /** The same, for the root process only (PiCloud: without the executor child). */
  rootCpuMsPerReq: number;
}

function toMs(v: string, unit: string): number {
  const n = Number(v);
  return unit === "us" ? n / 1000 : unit === "s" ? n * 1000 : n;
}

const luaFile = join(mkdtempSync(join(tmpdir(), "picloud-e2e-")), "post.lua");
dirs.push(dirname(luaFile));
writeFileSync(luaFile, `wrk.method = "POST"\nwrk.body = '${BODY}'\nwrk.headers["Content-Type"] = "application/json"\n`);

function wrk(url: string, seconds: number, pid: number): WrkResult {
  const cpu0 = cpuSeconds(pid);
  const root0 = cpuSeconds(pid, true);
  const out = execFileSync(
    "wrk",
    ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--timeout", "5s", "--latency", "-s", luaFile, url],
    { encoding: "utf8" },
  );
  const cpu = cpuSeconds(pid) - cpu0;
  const root = cpuSeconds(pid, true) - root0;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const lat = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(out);
    return m ? toMs(m[1] as string, m[2] as string) : Number.NaN;
  };
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return {
    rps,
    p50: lat("50"),
    p99: lat("99"),
    errors,
    requests,
    cpuMsPerReq: (cpu * 1000) / requests,
    rootCpuMsPerReq: (root * 1000) / requests,
  };
}

interface System {
  key: string;
  label: string;
  url: string;
  pid: number;
}

async function admin(base: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(base + path, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
  });
}

async function createScript(base: string, name: string, source: string): Promise<void> {
  const r = await admin(base, "/api/scripts", { method: "POST", body: JSON.stringify({ name, source }) });
  if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${await r.text()}`);
  await r.arrayBuffer();
}

async function startPicloud(
  sink: "on" | "off",
  extraEnv: Record<string, string> = {},
): Promise<{ base: string; pid: number }> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "picloud-e2e-data-"));
  dirs.push(dataDir);
  const url = await createDatabase();
  const c = start(NODE, ["--no-node-snapshot", "bench/e2e-server.ts"], {
    // Profiles of the server and of its executor child, written when they exit.
    ...(PROFILE ? { NODE_OPTIONS: "--cpu-prof --cpu-prof-dir=/tmp/picloud-prof" } : {}),
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: url,
    PICLOUD_DATA_DIR: dataDir,
    PICLOUD_ADMIN_TOKEN: TOKEN,
    PICLOUD_NODE_ID: `bench-${sink}`,
    BENCH_SINK: sink,
    ...extraEnv,
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/health`, 60_000);
  return { base, pid: c.pid as number };
}

async function throughputSection(): Promise<{ rows: string[][]; summary: Map<string, WrkResult> }> {
  const systems: System[] = [];
  if (ONLY.has("hono")) {
    const port = await freePort();
    const c = start(NODE, ["bench/e2e-hono.ts", String(port)]);
    await waitFor(`http://127.0.0.1:${port}/`);
    systems.push({
      key: "hono",
      label: "bare Hono route (@hono/node-server)",
      url: `http://127.0.0.1:${port}/`,
      pid: c.pid as number,
    });
  }
  if (ONLY.has("workerd")) {
    if (existsSync(WORKERD)) {
      const port = await freePort();
      const c = start(WORKERD, ["serve", "bench/workerd/config.capnp", "--socket-addr", `http=127.0.0.1:${port}`]);
      await waitFor(`http://127.0.0.1:${port}/`);
      systems.push({
        key: "workerd",
        label: "workerd, same handler",
        url: `http://127.0.0.1:${port}/`,
        pid: c.pid as number,
      });
    } else log("workerd is not installed (pnpm install): skipped");
  }
  for (const [key, sink] of [
    ["picloud-sink", "on"],
    ["picloud-nosink", "off"],
  ] as const) {
    if (!ONLY.has(key)) continue;
    const p = await startPicloud(sink);
    await createScript(p.base, "hello", HELLO);
    systems.push({
      key,
      label: `PiCloud /api/execute, sink ${sink === "on" ? "PostgreSQL" : "off (null)"}`,
      url: `${p.base}/api/execute/hello`,
      pid: p.pid,
    });
  }
  // Warm every system up (JIT, isolates, connection pools), then alternate.
  for (const s of systems) wrk(s.url, 2, s.pid);
  const results = new Map<string, WrkResult[]>(systems.map((s) => [s.key, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of systems) {
      const w = wrk(s.url, SECONDS, s.pid);
      results.get(s.key)?.push(w);
      if (w.errors > 0) {
        const r = await fetch(s.url, { method: "POST", body: BODY });
        log(`${s.key}: ${w.errors} errors; a request now answers ${r.status} ${(await r.text()).slice(0, 300)}`);
      }
      log(
        `round ${r + 1} ${s.key}: ${f(w.rps, 0)} req/s, p50 ${f(w.p50)} ms, p99 ${f(w.p99)} ms, ` +
          `CPU ${f(w.cpuMsPerReq, 3)} ms/req (root ${f(w.rootCpuMsPerReq, 3)}), errors ${w.errors}`,
      );
      await sleep(300);
    }
  }
  const summary = new Map<string, WrkResult>();
  for (const s of systems) {
    const rs = results.get(s.key) ?? [];
    summary.set(s.key, {
      rps: median(rs.map((x) => x.rps)),
      p50: median(rs.map((x) => x.p50)),
      p99: median(rs.map((x) => x.p99)),
      errors: rs.reduce((a, x) => a + x.errors, 0),
      requests: rs.reduce((a, x) => a + x.requests, 0),
      cpuMsPerReq: median(rs.map((x) => x.cpuMsPerReq)),
      rootCpuMsPerReq: median(rs.map((x) => x.rootCpuMsPerReq)),
    });
  }
  const hono = summary.get("hono");
  const workerd = summary.get("workerd");
  const rows: string[][] = [
    [
      "system",
      "req/s",
      "p50 ms",
      "p99 ms",
      "vs Hono",
      "vs workerd",
      "p99 vs Hono",
      "server CPU ms/req",
      "of which executor",
      "errors",
    ],
  ];
  for (const s of systems) {
    const w = summary.get(s.key) as WrkResult;
    rows.push([
      s.label,
      f(w.rps, 0),
      f(w.p50),
      f(w.p99),
      hono ? `${f(w.rps / hono.rps)}x` : "",
      workerd ? `${f(w.rps / workerd.rps)}x` : "",
      hono ? `${f(w.p99 / hono.p99)}x` : "",
      f(w.cpuMsPerReq, 3),
      f(w.cpuMsPerReq - w.rootCpuMsPerReq, 3),
      String(w.errors),
    ]);
  }
  return { rows, summary };
}

async function coldSection(base: string): Promise<string[][]> {
  await createScript(base, "cold", HELLO);
  const post = (): Promise<Response> => fetch(`${base}/api/execute/cold`, { method: "POST", body: BODY });
  const call = async (): Promise<number> => {
    const t = performance.now();
    const r = await post();
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`cold call: ${r.status}`);
    return performance.now() - t;
  };
  for (let i = 0; i < 20; i++) await call();
  const cold: number[] = [];
  const warm: number[] = [];
  const save: number[] = [];
  for (let i = 0; i < COLD; i++) {
    const t0 = performance.now();
    const r = await admin(base, "/api/scripts/cold", {
      method: "PUT",
      body: JSON.stringify({ source: `${HELLO}\n// version ${i}` }),
    });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`PUT cold: ${r.status}`);
    const t1 = performance.now();
    save.push(t1 - t0);
    cold.push(await call()); // the new version's first response
    warm.push(await call()); // the same version, now warm
  }
  const diff = cold.map((c, i) => c - (warm[i] as number));
  // The "warm" call above follows a cold one while background work (spare isolate refill,
  // old version disposal, sink flush) may still run; a quiet sequence of warm calls too.
  await sleep(500);
  const steady: number[] = [];
  for (let i = 0; i < COLD; i++) steady.push(await call());
  const overSteady = pct(cold, 50) - pct(steady, 50);
  return [
    ["measure", "p50 ms", "p99 ms", "n"],
    ["save a new version (PUT /api/scripts/cold)", f(pct(save, 50)), f(pct(save, 99)), String(COLD)],
    ["cold: first response of the new version", f(pct(cold, 50)), f(pct(cold, 99)), String(COLD)],
    ["warm: the next call of the same version", f(pct(warm, 50)), f(pct(warm, 99)), String(COLD)],
    ["cold minus warm, per version", f(pct(diff, 50)), f(pct(diff, 99)), String(COLD)],
    ["warm, quiet: sequential calls of the last version", f(pct(steady, 50)), f(pct(steady, 99)), String(COLD)],
    ["cold p50 minus quiet warm p50", f(overSteady), "", ""],
  ];
}

async function densitySection(base: string, pid: number): Promise<string[][]> {
  const executorPid = tree(pid).find((p) => p !== pid && /child-main/.test(readFileSync(`/proc/${p}/cmdline`, "utf8")));
  if (!executorPid) throw new Error("executor child not found");
  await sleep(1000);
  // Saving a script already readies an isolate for it (Executor.prepare): "before" is
  // taken before any of them exists.
  const before = rssMb(executorPid);
  const t0 = performance.now();
  for (let i = 0; i < SCRIPTS; i++) {
    await createScript(
      base,
      `d${i}`,
      `let n = 0;\nexport default async (req: Request) => Response.json({ script: ${i}, n: ++n, body: (await req.text()).length });`,
    );
  }
  const createMs = performance.now() - t0;
  const t1 = performance.now();
  for (let i = 0; i < SCRIPTS; i++) {
    const r = await fetch(`${base}/api/execute/d${i}`, { method: "POST", body: BODY });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`d${i}: ${r.status}`);
  }
  const warmMs = performance.now() - t1;
  await sleep(2000);
  const after = rssMb(executorPid);
  const metrics = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const warmIsolates = Number(/picloud_isolates\{[^}]*warm[^}]*\}\s+(\d+)/.exec(metrics)?.[1] ?? Number.NaN);
  // The pool may have disposed LRU isolates to stay under its memory budget: divide by
  // what is actually warm (the density instance runs with a 4 GiB executor cap, see below).
  const warm = Number.isFinite(warmIsolates) ? warmIsolates : SCRIPTS;
  const perScript = (after - before) / warm;
  return [
    ["measure", "value"],
    ["executor child RSS before the scripts were saved", `${f(before, 0)} MB`],
    [`executor child RSS with ${SCRIPTS} distinct scripts called once, then idle 2 s`, `${f(after, 0)} MB`],
    ["per warm idle script (RSS growth / warm isolates)", `${f(perScript, 2)} MB (${f(perScript * 1024, 0)} KB)`],
    [`warm isolates reported by /metrics (of ${SCRIPTS} scripts called)`, String(warmIsolates)],
    [`time to save ${SCRIPTS} scripts / first-call them`, `${f(createMs / 1000, 1)} s / ${f(warmMs / 1000, 1)} s`],
  ];
}

function table(title: string, rows: string[][]): string {
  const n = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: n }, (_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]): string => `| ${widths.map((w, i) => (r[i] ?? "").padEnd(w)).join(" | ")} |`;
  const [head, ...rest] = rows;
  return [
    `\n${title}\n`,
    line(head ?? []),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rest.map(line),
  ].join("\n");
}

async function main(): Promise<void> {
  const t0 = performance.now();
  try {
    execFileSync("wrk", ["-v"], { stdio: "ignore" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new Error("wrk is not installed: apt-get install wrk");
  }
  const out: string[] = [];
  const mem = (totalmem() / 1024 ** 3).toFixed(1);
  out.push(
    `End-to-end benchmark: Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), ${mem} GiB RAM`,
    `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s POST ${BODY.length}-byte JSON, ${ROUNDS} alternating rounds, medians`,
  );
  const tp = await throughputSection();
  out.push(table("Throughput and latency (hello world: read the body, answer JSON)", tp.rows));
  if (ONLY.has("cold")) {
    const p = await startPicloud("on");
    out.push(table(`Cold start (sink on), ${COLD} versions`, await coldSection(p.base)));
  }
  if (ONLY.has("density")) {
    // The default executor cap (PICLOUD_EXECUTOR_MEMORY_MB=2048) budgets ~1.8 GB for
    // isolates, a little under 1,000 used ones; the density run gives it room for them all.
    const p = await startPicloud("on", { PICLOUD_EXECUTOR_MEMORY_MB: DENSITY_MEMORY_MB });
    out.push(
      table(
        `Density (executor child process, PICLOUD_EXECUTOR_MEMORY_MB=${DENSITY_MEMORY_MB})`,
        await densitySection(p.base, p.pid),
      ),
    );
  }
  out.push(`\n(${f((performance.now() - t0) / 1000, 0)} s)`);
  console.log(out.join("\n"));
}

async function cleanup(): Promise<void> {
  await stopAll();
  await dropDatabases().catch((e: unknown) => log(`dropping databases failed: ${e}`));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

main().then(
  async () => {
    await cleanup();
    process.exit(0);
  },
  async (e: unknown) => {
    console.error(e);
    await cleanup();
    process.exit(1);
  },
);
