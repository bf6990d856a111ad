/**
 * Cluster mode: a saved version is readied on the node's executor before its first request
 * (Executor.prepare through every wrapper: orchestrator → RemoteExecutor → picloud-executor
 * → ProcessExecutor → the sandbox child). A real manager (PostgreSQL), a picloud-executor in
 * its default process mode, and an orchestrator, in one test process.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, eventually, freePort, type TestDatabase } from "@picloud/testing";
import { type RunningExecutor, startExecutor } from "picloud-executor";
import { type RunningManager, startManager } from "picloud-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningOrchestrator, startOrchestrator } from "./orchestrator.ts";

const CLUSTER_TOKEN = "prepare-test-cluster-token-0123456789abcdef";
const ADMIN = "prepare-test-admin-token";

let db: TestDatabase;
let dir: string;
let manager: RunningManager;
let executor: RunningExecutor;
let orchestrator: RunningOrchestrator;

const admin = (path: string, init: RequestInit = {}) =>
  fetch(manager.listening.url + path, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
  });
const call = async (name: string): Promise<unknown> => {
  const res = await fetch(`${orchestrator.listening.url}/api/execute/${name}`);
  expect(res.status).toBe(200);
  return res.json();
};
/** Isolates as the executor binary reports them (its sandbox child's stats, as last received). */
const executorStats = () => executor.services.executor.stats();
/** Waits until the executor holds `isolates` warm isolates of `scripts` versions. */
const executorHolds = (isolates: number, scripts: number, what: string) =>
  eventually(
    () => {
      const s = executorStats();
      return s.isolatesWarm === isolates && s.scriptsLoaded === scripts;
    },
    10_000,
    what,
  );
/**
 * The same, current: stats ride on the child's replies at most every 50 ms, so wait that
 * long and ask it something.
 */
const freshStats = async () => {
  await new Promise((r) => setTimeout(r, 60));
  await executor.services.executor.ready();
  return executorStats();
};

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), "picloud-prepare-"));
  manager = await startManager({
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    DATABASE_URL: db.url,
    PICLOUD_CLUSTER_TOKEN: CLUSTER_TOKEN,
    PICLOUD_ADMIN_TOKEN: ADMIN,
    PICLOUD_DATA_DIR: join(dir, "manager"),
    PICLOUD_LOG_LEVEL: "silent",
  });
  executor = await startExecutor({
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    PICLOUD_EXECUTOR_LISTEN: join(dir, "executor.sock"),
    PICLOUD_LOG_LEVEL: "silent",
    PICLOUD_SHUTDOWN_TIMEOUT_MS: "5000",
  });
  orchestrator = await startOrchestrator({
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    PICLOUD_MANAGER_URL: manager.listening.url,
    PICLOUD_CLUSTER_TOKEN: CLUSTER_TOKEN,
    PICLOUD_EXECUTOR_ADDRESS: join(dir, "executor.sock"),
    PICLOUD_DATA_DIR: join(dir, "orchestrator"),
    PICLOUD_NODE_ID: "prepare-test",
    PICLOUD_LOG_LEVEL: "silent",
    PICLOUD_SHUTDOWN_TIMEOUT_MS: "5000",
  });
  await eventually(
    async () => (await fetch(`${orchestrator.listening.url}/ready`)).ok && orchestrator.services.changes.connected,
    30_000,
    "orchestrator ready and following the manager's changes",
  );
}, 60_000);

afterAll(async () => {
  await orchestrator?.stop();
  await executor?.stop();
  await manager?.stop();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("prepare in cluster mode", () => {
  it("a saved version is warm on the node's executor before its first request", async () => {
    expect(executorStats()).toMatchObject({ isolatesWarm: 0, scriptsLoaded: 0 });
    const saved = await admin("/api/scripts", {
      method: "POST",
      body: JSON.stringify({
        name: "warm",
        source: `let n = 0; export default async (req) => { await new Promise((r) => setTimeout(r, 150)); return { n: ++n, v: 1 }; }`,
      }),
    });
    expect(saved.status).toBe(201);

    // No request has been made: the orchestrator heard of the save and readied the version.
    await executorHolds(1, 1, "the executor holds an isolate of the saved version");
    // The first request runs in that isolate (module state starts there), and adds none.
    expect(await call("warm")).toEqual({ n: 1, v: 1 });
    expect(await freshStats()).toMatchObject({ isolatesWarm: 1, scriptsLoaded: 1 });

    // Two concurrent requests: a second isolate of version 1.
    await Promise.all([call("warm"), call("warm")]);
    expect(await freshStats()).toMatchObject({ isolatesWarm: 2, scriptsLoaded: 1 });

    // A new version: version 1's isolates go, and one of version 2 is readied before its request.
    const updated = await admin("/api/scripts/warm", {
      method: "PUT",
      body: JSON.stringify({ source: `export default () => ({ v: 2 })` }),
    });
    expect(updated.status).toBe(200);
    await executorHolds(1, 1, "the executor holds one isolate: of the new version");
    expect(await call("warm")).toEqual({ v: 2 });
    expect(await freshStats()).toMatchObject({ isolatesWarm: 1, scriptsLoaded: 1 });
  });
});
