/**
 * picloud-orchestrator with a real manager (PostgreSQL) and a real executor, in one test
 * process: behaviour when the manager or the executor goes away, private scripts, drains.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, eventually, freePort, TcpProxy, type TestDatabase } from "@picloud/testing";
import { type RunningExecutor, startExecutor } from "picloud-executor";
import { type RunningManager, startManager } from "picloud-manager";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningOrchestrator, startOrchestrator } from "./orchestrator.ts";

const CLUSTER_TOKEN = "orchestrator-test-cluster-token-0123456789";
const ADMIN = "orchestrator-test-admin-token";

/** Polls `check` until it yields a value (see `eventually`), naming the condition on failure. */
const until = <T>(what: string, check: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> =>
  eventually(check, ms, what);

let db: TestDatabase;
let dir: string;
let manager: RunningManager;
let proxy: TcpProxy;
let executor: RunningExecutor;
let orchestrator: RunningOrchestrator;
let orchestratorEnv: Record<string, string>;
let executorEnv: Record<string, string>;
let base = "";

const admin = (path: string, init: RequestInit = {}) =>
  fetch(manager.listening.url + path, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
  });

async function deploy(name: string, source: string, extra: Record<string, unknown> = {}) {
  const res = await admin("/api/scripts", { method: "POST", body: JSON.stringify({ name, source, ...extra }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string };
}

async function rows(scriptName: string): Promise<Map<string, number>> {
  const sql = postgres(db.url, { max: 1 });
  try {
    const r = await sql<{ id: string; n: number }[]>`
      select id::text as id, count(*)::int as n from execution_logs where script_name = ${scriptName} group by id`;
    return new Map(r.map((x) => [x.id, x.n]));
  } finally {
    await sql.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), "picloud-orch-"));
  manager = await startManager({
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    DATABASE_URL: db.url,
    PICLOUD_CLUSTER_TOKEN: CLUSTER_TOKEN,
    PICLOUD_ADMIN_TOKEN: ADMIN,
    PICLOUD_DATA_DIR: join(dir, "manager"),
    PICLOUD_LOG_LEVEL: "silent",
  });
  proxy = new TcpProxy({ host: "127.0.0.1", port: manager.listening.port });
  await proxy.start();
  executorEnv = {
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    PICLOUD_EXECUTOR_LISTEN: join(dir, "executor.sock"),
    PICLOUD_EXECUTOR_MODE: "in-process",
    PICLOUD_LOG_LEVEL: "silent",
    PICLOUD_SHUTDOWN_TIMEOUT_MS: "5000",
  };
  executor = await startExecutor(executorEnv);
  orchestratorEnv = {
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    PICLOUD_MANAGER_URL: `http://127.0.0.1:${proxy.port}`,
    PICLOUD_CLUSTER_TOKEN: CLUSTER_TOKEN,
    PICLOUD_EXECUTOR_ADDRESS: join(dir, "executor.sock"),
    PICLOUD_DATA_DIR: join(dir, "orchestrator"),
    PICLOUD_NODE_ID: "orch-test",
    PICLOUD_LOG_LEVEL: "silent",
    PICLOUD_SHUTDOWN_TIMEOUT_MS: "5000",
  };
  orchestrator = await startOrchestrator(orchestratorEnv);
  base = orchestrator.listening.url;
  await until("orchestrator ready", async () => (await fetch(`${base}/ready`)).ok);
}, 60_000);

afterAll(async () => {
  await orchestrator?.stop();
  await executor?.stop();
  await proxy?.stop();
  await manager?.stop();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("picloud-orchestrator", () => {
  it("keeps serving cached scripts while the manager is unreachable, spills its logs at shutdown, and the next start delivers each once", async () => {
    await deploy("steady", `export default () => "ok"`);
    const ids: string[] = [];
    const call = async () => {
      const res = await fetch(`${base}/api/execute/steady`);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-picloud-node")).toBe("orch-test");
      ids.push(res.headers.get("x-picloud-execution-id") ?? "");
      await res.arrayBuffer();
    };
    for (let i = 0; i < 5; i++) await call();
    await proxy.stop(); // the manager is gone for the orchestrator
    for (let i = 0; i < 10; i++) await call();
    const ready = await until("manager reported unreachable", async () => {
      const r = await fetch(`${base}/ready`);
      const body = (await r.json()) as { manager: { reachable: boolean } };
      return r.status === 200 && body.manager.reachable === false ? body : undefined;
    });
    expect(ready.manager.reachable).toBe(false);
    // A script this node never saw cannot be served: 503, not a hang.
    const unknown = await fetch(`${base}/api/execute/never-seen`);
    expect(unknown.status).toBe(503);

    await orchestrator.stop(); // SIGTERM-like drain: the manager is away, so the logs are spilled
    const spilled = readdirSync(join(dir, "orchestrator", "sink-spill"));
    expect(spilled.length).toBeGreaterThan(0);
    expect(orchestrator.services.sink.stats().spilled).toBeGreaterThan(0);

    await proxy.start();
    orchestrator = await startOrchestrator(orchestratorEnv);
    base = orchestrator.listening.url;
    const stored = await until("spilled logs replayed", async () => {
      const m = await rows("steady");
      return m.size >= ids.length ? m : undefined;
    });
    expect(stored.size).toBe(ids.length);
    for (const id of ids) expect(stored.get(id), id).toBe(1);
  }, 60_000);

  it("answers 503 on /ready and executor_unavailable at once while its executor is down, and recovers", async () => {
    await deploy("quick", `export default () => "quick"`);
    expect((await fetch(`${base}/api/execute/quick`)).status).toBe(200);
    await executor.stop();
    await until("/ready turns 503", async () => (await fetch(`${base}/ready`)).status === 503);
    const res = await fetch(`${base}/api/execute/quick`);
    expect(res.status).toBe(500);
    const body = (await res.json()) as { details?: { reason?: string } };
    expect(body.details?.reason).toBe("executor_unavailable");

    executor = await startExecutor(executorEnv);
    await until("/ready back", async () => (await fetch(`${base}/ready`)).ok);
    const again = await fetch(`${base}/api/execute/quick`);
    expect(again.status).toBe(200);
    expect(await again.text()).toBe("quick");
  }, 30_000);

  it("an executor drain finishes the invocation in flight before it stops", async () => {
    await deploy("slowish", `export default () => new Promise((r) => setTimeout(() => r("done"), 400))`);
    expect((await fetch(`${base}/api/execute/slowish`)).status).toBe(200); // warm
    const inflight = fetch(`${base}/api/execute/slowish`);
    await until("in flight", async () => executor.services.executor.inFlight > 0);
    const stopping = executor.stop();
    const res = await inflight;
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.text()).toBe("done");
    await stopping;
    executor = await startExecutor(executorEnv);
    await until("/ready back", async () => (await fetch(`${base}/ready`)).ok);
  }, 30_000);

  it("private scripts take their invoke key; the admin token works through the manager", async () => {
    const { id } = await deploy("private-one", `export default () => "secret"`, { visibility: "private" });
    const keyRes = await admin(`/api/scripts/${id}/keys`, { method: "POST", body: JSON.stringify({ name: "ci" }) });
    const { key } = (await keyRes.json()) as { key: string };
    expect((await fetch(`${base}/api/execute/private-one`)).status).toBe(401);
    const wrong = await fetch(`${base}/api/execute/private-one`, { headers: { authorization: "Bearer pc_key_wrong" } });
    expect(wrong.status).toBe(401);
    const withKey = await fetch(`${base}/api/execute/private-one`, { headers: { authorization: `Bearer ${key}` } });
    expect(withKey.status, await withKey.clone().text()).toBe(200);
    expect(await withKey.text()).toBe("secret");
    const asAdmin = await fetch(`${base}/api/execute/private-one`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(asAdmin.status).toBe(200);
  });
});

describe("the three binaries refuse a bad configuration with one line per variable (exit 78)", () => {
  const bin = (name: string) => fileURLToPath(new URL(`../../${name}/src/bin.ts`, import.meta.url));
  it.each([
    ["picloud-manager", {}, /DATABASE_URL: is required.*\n.*PICLOUD_CLUSTER_TOKEN: is required/],
    ["picloud-orchestrator", { PICLOUD_CLUSTER_TOKEN: "short" }, /PICLOUD_MANAGER_URL: is required|at least 32/],
    [
      "picloud-executor",
      { PICLOUD_EXECUTOR_LISTEN: "nowhere" },
      /PICLOUD_EXECUTOR_LISTEN: must be host:port or a unix socket path/,
    ],
  ])("%s", (name, env, message) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(PICLOUD_(?!TEST_)|DATABASE_URL$|PORT$)/.test(k)),
    );
    const r = spawnSync(process.execPath, [bin(name)], {
      env: { ...clean, ...env },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(78);
    expect(r.stderr).toMatch(message);
  });
});
