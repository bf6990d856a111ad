/**
 * Cluster mode end to end (issue 6): PostgreSQL, one picloud-manager, two
 * picloud-orchestrators each with its own picloud-executor (one over loopback TCP, one over
 * a unix socket) and Caddy with caddy/Caddyfile.cluster — every one a real process on
 * loopback ports.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, eventually, freePort, type TestDatabase, testCaddy } from "@picloud/testing";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = {
  manager: join(ROOT, "packages/picloud-manager/src/bin.ts"),
  orchestrator: join(ROOT, "packages/picloud-orchestrator/src/bin.ts"),
  executor: join(ROOT, "packages/picloud-executor/src/bin.ts"),
};
const CADDYFILE = join(ROOT, "caddy/Caddyfile.cluster");
const CLUSTER_TOKEN = "e2e-cluster-token-0123456789abcdefghijklmnop";
const ADMIN = "e2e-admin-token-0123456789";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it yields a value (see `eventually`), naming the condition on failure. */
const until = <T>(what: string, check: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> =>
  eventually(check, ms, what);

/** A child process with its output kept (shown when the test fails). */
class Proc {
  readonly name: string;
  readonly child: ChildProcess;
  output = "";
  readonly exited: Promise<number | null>;
  constructor(name: string, cmd: string, args: string[], env: Record<string, string>) {
    this.name = name;
    this.child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (d: Buffer) => {
      this.output = (this.output + String(d)).slice(-20_000);
    };
    this.child.stdout?.on("data", keep);
    this.child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<number | null> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }
}

interface Call {
  /** Order in which the request was issued. */
  seq: number;
  status: number;
  node: string | null;
  id: string | null;
  body: string;
}

async function get(url: string, init: RequestInit = {}, seq = 0): Promise<Call> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
    return {
      seq,
      status: res.status,
      node: res.headers.get("x-picloud-node"),
      id: res.headers.get("x-picloud-execution-id"),
      body: await res.text(),
    };
  } catch (e) {
    return { seq, status: 0, node: null, id: null, body: String(e) };
  }
}

/**
 * A bounded load run: `total` requests by `concurrency` workers; `at` runs an action once
 * `at.after` requests have completed (and is awaited before the run ends).
 */
async function load(
  url: string,
  total: number,
  concurrency: number,
  at?: { after: number; action: (issued: () => number) => Promise<void> },
): Promise<Call[]> {
  const calls: Call[] = [];
  let issued = 0;
  const issuedSoFar = () => issued;
  let action: Promise<void> | null = null;
  const worker = async () => {
    while (issued < total) {
      const seq = issued++;
      calls.push(await get(url, {}, seq));
      if (at && !action && calls.length >= at.after) action = at.action(issuedSoFar);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await action;
  return calls;
}

describe("cluster mode: manager + 2 × (orchestrator + executor) + Caddy + PostgreSQL", () => {
  let db: TestDatabase;
  let dir: string;
  const procs: Proc[] = [];
  let caddyUrl = "";
  const ports = { manager: 0, orch: [0, 0], execHttp: [0, 0], exec1Rpc: 0, caddy: 0, caddyAdmin: 0 };
  let managerEnv: Record<string, string> = {};
  const orchEnv: Record<string, string>[] = [];
  let manager: Proc;
  const orchestrators: Proc[] = [];
  const executors: Proc[] = [];
  const execEnv: Record<string, string>[] = [];

  const start = (name: string, bin: string, env: Record<string, string>) => {
    const p = new Proc(name, process.execPath, [bin], env);
    procs.push(p);
    return p;
  };
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(caddyUrl + path, {
      ...init,
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    });
  const deploy = async (name: string, source: string) => {
    const res = await admin("/api/scripts", { method: "POST", body: JSON.stringify({ name, source }) });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { id: string; version: number };
  };

  beforeAll(async () => {
    const caddy = await testCaddy();
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), "picloud-cluster-"));
    ports.manager = await freePort();
    ports.orch = [await freePort(), await freePort()];
    ports.execHttp = [await freePort(), await freePort()];
    ports.exec1Rpc = await freePort();
    ports.caddy = await freePort();
    ports.caddyAdmin = await freePort();
    const common = { HOST: "127.0.0.1", PICLOUD_LOG_LEVEL: "warn", PICLOUD_SHUTDOWN_TIMEOUT_MS: "5000" };
    managerEnv = {
      ...common,
      PORT: String(ports.manager),
      DATABASE_URL: db.url,
      PICLOUD_CLUSTER_TOKEN: CLUSTER_TOKEN,
      PICLOUD_ADMIN_TOKEN: ADMIN,
      PICLOUD_DATA_DIR: join(dir, "manager"),
      PICLOUD_NODE_ID: "manager",
    };
    const execAddr = [`127.0.0.1:${ports.exec1Rpc}`, join(dir, "executor-2.sock")];
    for (const i of [0, 1]) {
      execEnv[i] = {
        ...common,
        PORT: String(ports.execHttp[i]),
        PICLOUD_EXECUTOR_LISTEN: execAddr[i] as string,
        PICLOUD_NODE_ID: `executor-${i + 1}`,
      };
      executors[i] = start(`executor-${i + 1}`, BIN.executor, execEnv[i] ?? {});
      orchEnv[i] = {
        ...common,
        PORT: String(ports.orch[i]),
        PICLOUD_MANAGER_URL: `http://127.0.0.1:${ports.manager}`,
        PICLOUD_CLUSTER_TOKEN: CLUSTER_TOKEN,
        PICLOUD_EXECUTOR_ADDRESS: execAddr[i] as string,
        PICLOUD_DATA_DIR: join(dir, `orchestrator-${i + 1}`),
        PICLOUD_NODE_ID: `node-${i + 1}`,
      };
    }
    manager = start("manager", BIN.manager, managerEnv);
    for (const i of [0, 1]) orchestrators[i] = start(`orchestrator-${i + 1}`, BIN.orchestrator, orchEnv[i] ?? {});
    const caddyHome = join(dir, "caddy");
    mkdirSync(caddyHome, { recursive: true });
    caddyUrl = `http://127.0.0.1:${ports.caddy}`;
    procs.push(
      new Proc("caddy", caddy, ["run", "--config", CADDYFILE, "--adapter", "caddyfile"], {
        HOME: caddyHome,
        XDG_DATA_HOME: caddyHome,
        XDG_CONFIG_HOME: caddyHome,
        PICLOUD_SITE_ADDRESS: caddyUrl,
        PICLOUD_CADDY_BIND: "127.0.0.1",
        PICLOUD_CADDY_ADMIN: `127.0.0.1:${ports.caddyAdmin}`,
        PICLOUD_MANAGER: `127.0.0.1:${ports.manager}`,
        PICLOUD_ORCHESTRATORS: ports.orch.map((p) => `127.0.0.1:${p}`).join(" "),
        PICLOUD_HEALTH_INTERVAL: "300ms",
        PICLOUD_DASHBOARD_DIR: join(ROOT, "dashboard/build"),
      }),
    );
    const ready = (port: number) =>
      until(`:${port}/ready`, async () => (await fetch(`http://127.0.0.1:${port}/ready`)).ok, 40_000);
    await Promise.all([
      ready(ports.manager),
      ...ports.execHttp.map(ready),
      ...ports.orch.map(ready),
      until("caddy", async () => (await fetch(`${caddyUrl}/health`)).ok, 40_000),
    ]);
    // Caddy's own view: an orchestrator whose first health check failed (it was still
    // starting) rejoins the rotation at a later check. Wait until both answer through it.
    const seen = new Set<string>();
    await until(
      "Caddy routes to both orchestrators",
      async () => {
        const c = await get(`${caddyUrl}/api/execute/rotation-probe`);
        if (c.node) seen.add(c.node);
        return seen.size === 2;
      },
      20_000,
    );
  }, 60_000);

  afterAll(async () => {
    // Warnings of the processes (unhandled rejections and the like) are worth seeing.
    for (const p of procs) {
      const warnings = p.output.split("\n").filter((l) => /Warning|Unhandled|uncaught/i.test(l));
      if (warnings.length) process.stderr.write(`[cluster e2e] ${p.name}:\n${warnings.join("\n")}\n`);
    }
    await Promise.all(procs.map((p) => p.kill("SIGKILL")));
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** On a failure, the processes' last output says why. */
  const dumpOnFailure = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      for (const p of procs) process.stderr.write(`\n----- ${p.name} -----\n${p.output.slice(-4000)}\n`);
      throw e;
    }
  };

  it(
    "deploys through Caddy and both orchestrators serve traffic; an update, a rollback and a delete are served by both within 1 s",
    () =>
      dumpOnFailure(async () => {
        // Caddy: system paths go to the manager, other paths are the dashboard (SPA fallback),
        // and the manager's internal cluster routes are not reachable through it.
        const info = (await (await fetch(`${caddyUrl}/info`)).json()) as { service: string; mode: string };
        expect(info).toMatchObject({ service: "picloud-manager", mode: "cluster" });
        if (existsSync(join(ROOT, "dashboard/build/index.html"))) {
          const spa = await fetch(`${caddyUrl}/scripts/hello/executions`);
          expect(spa.status).toBe(200);
          expect(spa.headers.get("content-type")).toContain("text/html");
        }
        const internal = await fetch(`${caddyUrl}/internal/cluster/scripts/hello`, {
          headers: { authorization: `Bearer ${CLUSTER_TOKEN}` },
        });
        expect(internal.headers.get("content-type") ?? "").not.toContain("application/json");
        await deploy("hello", `export default () => Response.json({ v: 1 })`);
        const calls: Call[] = [];
        for (let i = 0; i < 20; i++) calls.push(await get(`${caddyUrl}/api/execute/hello`));
        expect(calls.map((c) => c.status)).toEqual(Array(20).fill(200));
        expect(new Set(calls.map((c) => c.body))).toEqual(new Set(['{"v":1}']));
        const byNode = Object.groupBy(calls, (c) => c.node ?? "none");
        expect(Object.keys(byNode).sort()).toEqual(["node-1", "node-2"]);

        // Each change goes through Caddy to the manager; from the moment it answers, each
        // orchestrator is polled directly until it serves the change.
        const change = async (
          label: string,
          path: string,
          init: RequestInit,
          script: string,
          served: (c: Call) => boolean,
        ) => {
          const res = await admin(path, init);
          expect(res.status, `${label}: ${await res.clone().text()}`).toBeLessThan(300);
          const t0 = performance.now();
          const lag = await Promise.all(
            ports.orch.map(async (port) => {
              await until(label, async () => served(await get(`http://127.0.0.1:${port}/api/execute/${script}`)), 5000);
              return performance.now() - t0;
            }),
          );
          process.stderr.write(
            `[cluster e2e] ${label} served by both orchestrators after ${lag.map((l) => l.toFixed(0)).join(" / ")} ms\n`,
          );
          for (const ms of lag) expect(ms, label).toBeLessThan(1000);
        };
        const json = (body: string) => JSON.stringify({ source: `export default () => Response.json(${body})` });
        await change(
          "update",
          "/api/scripts/hello",
          { method: "PUT", body: json("{ v: 2 }") },
          "hello",
          (c) => c.body === '{"v":2}',
        );
        await change(
          "rollback",
          "/api/scripts/hello/rollback",
          { method: "POST", body: JSON.stringify({ version: 1 }) },
          "hello",
          (c) => c.body === '{"v":1}',
        );
        await change(
          "update",
          "/api/scripts/hello",
          { method: "PUT", body: json("{ v: 2 }") },
          "hello",
          (c) => c.body === '{"v":2}',
        );
        await deploy("ephemeral", `export default () => "here"`);
        for (const port of ports.orch)
          expect((await get(`http://127.0.0.1:${port}/api/execute/ephemeral`)).status).toBe(200);
        await change("delete", "/api/scripts/ephemeral", { method: "DELETE" }, "ephemeral", (c) => c.status === 404);
      }),
    30_000,
  );

  it(
    "Caddy routes around an orchestrator killed in the middle of a load run",
    () =>
      dumpOnFailure(async () => {
        const concurrency = 4;
        let issuedAfterKill = 0;
        const calls = await load(`${caddyUrl}/api/execute/hello`, 240, concurrency, {
          after: 60,
          action: async (issued) => {
            await orchestrators[1]?.kill("SIGKILL");
            issuedAfterKill = issued();
          },
        });
        const failed = calls.filter((c) => c.status !== 200);
        const after = calls.filter((c) => c.seq >= issuedAfterKill);
        process.stderr.write(
          `[cluster e2e] kill run: ${calls.length} requests, ${failed.length} failed (${failed.map((f) => f.status).join(",")}), ` +
            `after the kill: ${after.filter((c) => c.node === "node-1").length}/${after.length} on node-1\n`,
        );
        expect(calls).toHaveLength(240);
        // Only requests already in flight on the killed orchestrator can fail (Caddy retries the
        // ones it could not deliver): at most one per worker.
        expect(failed.length).toBeLessThanOrEqual(concurrency);
        // Everything issued after the kill settled was answered, and by the survivor.
        expect(after.every((c) => c.status === 200 && c.node === "node-1")).toBe(true);
        expect(calls.filter((c) => c.seq < 60).some((c) => c.node === "node-2")).toBe(true);
      }),
    40_000,
  );

  it(
    "a manager stopped and restarted during load loses no execution log and writes none twice",
    () =>
      dumpOnFailure(async () => {
        // Bring node 2 back (same data dir), so that both orchestrators keep logs through the outage.
        orchestrators[1] = start("orchestrator-2 (restarted)", BIN.orchestrator, orchEnv[1] ?? {});
        await until(
          "orchestrator-2 ready",
          async () => (await fetch(`http://127.0.0.1:${ports.orch[1]}/ready`)).ok,
          30_000,
        );
        await deploy("ledger", `export default () => new Promise((r) => setTimeout(() => r("ok"), 5))`);
        // Caddy puts node 2 back in rotation once its /ready passes (and its passive-failure window ends).
        await until(
          "Caddy routes to node 2 again",
          async () => (await get(`${caddyUrl}/api/execute/hello`)).node === "node-2",
          20_000,
        );
        // Warm both caches (the script is fetched from the manager once per orchestrator).
        for (const port of ports.orch)
          expect((await get(`http://127.0.0.1:${port}/api/execute/ledger`)).status).toBe(200);

        let downFrom = 0;
        let upAt = 0;
        const calls = await load(`${caddyUrl}/api/execute/ledger`, 400, 4, {
          after: 60,
          action: async (issued) => {
            expect(await manager.kill("SIGKILL")).toBe(null);
            downFrom = issued();
            await sleep(1000); // requests keep coming while no manager exists
            manager = start("manager (restarted)", BIN.manager, managerEnv);
            await until(
              "manager back",
              async () => (await fetch(`http://127.0.0.1:${ports.manager}/ready`)).ok,
              30_000,
            );
            upAt = issued();
          },
        });
        const ok = calls.filter((c) => c.status === 200 && c.id);
        process.stderr.write(
          `[cluster e2e] manager outage: ${calls.length} requests, ${ok.length} ok, ${upAt - downFrom} answered while the manager was down or starting; ` +
            `nodes ${JSON.stringify(Object.fromEntries(Object.entries(Object.groupBy(ok, (c) => c.node ?? "?")).map(([k, v]) => [k, v?.length])))}\n`,
        );
        // Cached scripts kept serving while the manager was away.
        expect(calls.map((c) => c.status).filter((s) => s !== 200)).toEqual([]);
        expect(upAt - downFrom).toBeGreaterThan(0);
        // Both orchestrators served (and so both kept logs through the outage).
        expect(new Set(ok.map((c) => c.node))).toEqual(new Set(["node-1", "node-2"]));

        const ids = new Set(ok.map((c) => c.id as string));
        expect(ids.size).toBe(ok.length);
        const sql = postgres(db.url, { max: 1 });
        try {
          const rows = await until(
            "every execution log stored",
            async () => {
              const r = await sql<{ id: string; n: number }[]>`
              select id::text as id, count(*)::int as n from execution_logs where script_name = 'ledger' group by id`;
              return r.length >= ids.size + 2 ? r : undefined; // + the two warm-up calls
            },
            30_000,
          );
          const stored = new Map(rows.map((r) => [r.id, r.n]));
          for (const id of ids) expect(stored.get(id), id).toBe(1);
          expect(rows.length).toBe(ids.size + 2);
          const [{ nodes } = { nodes: 0 }] = await sql<{ nodes: number }[]>`
          select count(distinct node_id)::int as nodes from execution_logs where script_name = 'ledger'`;
          expect(nodes).toBe(2);
        } finally {
          await sql.end();
        }
      }),
    60_000,
  );

  it(
    "an executor killed during an invocation: executor_crashed at once, the node leaves Caddy's rotation, and comes back",
    () =>
      dumpOnFailure(async () => {
        const orch1 = `http://127.0.0.1:${ports.orch[0]}`;
        await deploy("sleepy", `export default () => new Promise((r) => setTimeout(() => r("woke"), 5000))`);
        const inflight = get(`${orch1}/api/execute/sleepy`);
        await until("invocation in flight on executor-1", async () => {
          const m = await (await fetch(`http://127.0.0.1:${ports.execHttp[0]}/metrics`)).text();
          return /picloud_executor_rpc\{kind="inflight"\} [1-9]/.test(m);
        });
        await executors[0]?.kill("SIGKILL");
        const crashed = await inflight;
        expect(crashed.status).toBe(500);
        expect(JSON.parse(crashed.body)).toMatchObject({ details: { reason: "executor_crashed" } });
        const unavailable = await get(`${orch1}/api/execute/hello`);
        expect(unavailable.status).toBe(500);
        expect(JSON.parse(unavailable.body)).toMatchObject({ details: { reason: "executor_unavailable" } });
        expect((await fetch(`${orch1}/ready`)).status).toBe(503);
        // Caddy's /ready checks take node 1 out: everything is served by node 2.
        await until(
          "Caddy routes around node 1",
          async () => {
            const calls = await Promise.all(Array.from({ length: 6 }, () => get(`${caddyUrl}/api/execute/hello`)));
            return calls.every((c) => c.status === 200 && c.node === "node-2");
          },
          15_000,
        );
        executors[0] = start("executor-1 (restarted)", BIN.executor, execEnv[0] ?? {});
        await until("orchestrator-1 ready again", async () => (await fetch(`${orch1}/ready`)).ok, 30_000);
        const back = await get(`${orch1}/api/execute/hello`);
        expect([back.status, back.body]).toEqual([200, '{"v":2}']);
      }),
    60_000,
  );

  it(
    "every binary drains on SIGTERM and exits 0 (orchestrators first: their logs reach the manager)",
    () =>
      dumpOnFailure(async () => {
        const before = await get(`${caddyUrl}/api/execute/hello`);
        expect(before.status).toBe(200);
        const codes: Record<string, number | null> = {};
        for (const group of [orchestrators, executors, [manager]]) {
          await Promise.all(
            group.map(async (p) => {
              codes[p.name] = await p.kill("SIGTERM");
            }),
          );
        }
        expect(Object.values(codes)).toEqual([0, 0, 0, 0, 0]);
        const sql = postgres(db.url, { max: 1 });
        try {
          const [row] = await sql<
            { n: number }[]
          >`select count(*)::int as n from execution_logs where id = ${before.id}`;
          expect(row?.n).toBe(1);
        } finally {
          await sql.end();
        }
      }),
    60_000,
  );
});
