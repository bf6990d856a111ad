import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BufferedLogSink, SpillStore } from "@picloud/log-pipeline";
import {
  HttpLogWriter,
  HttpScriptSource,
  ManagerAnswerError,
  ManagerClient,
  SseChangeFeed,
} from "@picloud/orchestrator-core";
import { type ChangeNotice, CLUSTER_ROUTES, type ExecutionLog, LogBatchResponseSchema, uuidv7 } from "@picloud/shared";
import { createTestDatabase, eventually, freePort, makeLog, type TestDatabase } from "@picloud/testing";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningManager, startManager } from "./manager.ts";

const CLUSTER_TOKEN = "cluster-token-for-tests-0123456789abcdef";
const ADMIN = "admin-token-for-tests-0123";

function log(scriptId: string, extra: Partial<ExecutionLog> = {}): ExecutionLog {
  return { ...makeLog({ scriptId, ms: Date.now() }), ...extra };
}

let db: TestDatabase;
let dataDir: string;
let m: RunningManager;
let base: string;
const cluster = (path: string, body: unknown) =>
  fetch(`${base}/internal/cluster${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${CLUSTER_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
const admin = (path: string, init: RequestInit = {}) =>
  fetch(base + path, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
  });

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), "picloud-manager-"));
  m = await startManager({
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    DATABASE_URL: db.url,
    PICLOUD_CLUSTER_TOKEN: CLUSTER_TOKEN,
    PICLOUD_ADMIN_TOKEN: ADMIN,
    PICLOUD_DATA_DIR: dataDir,
    PICLOUD_LOG_LEVEL: "silent",
  });
  base = m.listening.url;
});

afterAll(async () => {
  await m?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("picloud-manager cluster routes", () => {
  it("refuses calls without the cluster token (the admin token is not enough)", async () => {
    for (const auth of [undefined, `Bearer ${ADMIN}`, `Bearer ${CLUSTER_TOKEN}x`]) {
      const res = await fetch(`${base}/internal/cluster/scripts/hello`, {
        headers: auth ? { authorization: auth } : {},
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBe("unauthorized");
    }
  });

  it("serves resolved scripts (env decrypted), verifies invoke keys and the admin", async () => {
    const created = await admin("/api/scripts", {
      method: "POST",
      body: JSON.stringify({
        name: "secretive",
        source: `export default () => "x"`,
        visibility: "private",
        env: { API_KEY: "s3cret" },
      }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const keyRes = await admin(`/api/scripts/${id}/keys`, { method: "POST", body: JSON.stringify({ name: "ci" }) });
    expect(keyRes.status).toBe(201);
    const { key } = (await keyRes.json()) as { key: string };

    const source = new HttpScriptSource({ client: new ManagerClient({ url: base, token: CLUSTER_TOKEN }) });
    const s = await source.getCurrent("secretive");
    expect(s).toMatchObject({ id, name: "secretive", version: 1, visibility: "private", env: { API_KEY: "s3cret" } });
    expect(await source.getCurrent("nope")).toBeNull();
    expect(await source.verifyInvokeKey(id, key)).toBe(true);
    expect(await source.verifyInvokeKey(id, `${key}x`)).toBe(false);
    expect(await source.verifyAdmin({ token: ADMIN })).toBe(true);
    expect(await source.verifyAdmin({ token: "not-the-admin-token" })).toBe(false);
    expect(await source.verifyAdmin({ session: "pc_sess_forged" })).toBe(false);
  });

  it("pushes change notices fed by LISTEN/NOTIFY to the SSE stream, including from another process's NOTIFY", async () => {
    const feed = new SseChangeFeed({ client: new ManagerClient({ url: base, token: CLUSTER_TOKEN }) });
    const seen: ChangeNotice[] = [];
    let resyncs = 0;
    feed.subscribe((n) => seen.push(n));
    feed.onResync(() => resyncs++);
    feed.start();
    try {
      await eventually(() => feed.connected);
      expect(resyncs).toBe(1);
      const res = await admin("/api/scripts", {
        method: "POST",
        body: JSON.stringify({ name: "notified", source: `export default () => 1` }),
      });
      const { id } = (await res.json()) as { id: string };
      await eventually(() => seen.some((n) => n.scriptId === id && n.version === 1));
      await admin("/api/scripts/notified", {
        method: "PUT",
        body: JSON.stringify({ source: `export default () => 2` }),
      });
      await eventually(() => seen.some((n) => n.scriptId === id && n.version === 2));
      await admin("/api/scripts/notified", { method: "DELETE" });
      await eventually(() => seen.some((n) => n.scriptId === id && n.kind === "deleted"));
      // A NOTIFY from any other process (a second manager, a migration script) reaches the stream too.
      const sql = postgres(db.url, { max: 1 });
      await sql`select pg_notify('picloud_script_changes', ${JSON.stringify({ kind: "deleted", scriptId: "other", name: "other", version: null })})`;
      await sql.end();
      await eventually(() => seen.some((n) => n.scriptId === "other"));
    } finally {
      await feed.close();
    }
  });

  it("stores log batches exactly once (retries are idempotent), publishes them, and isolates a bad row", async () => {
    const writer = new HttpLogWriter({ client: new ManagerClient({ url: base, token: CLUSTER_TOKEN }) });
    const scriptId = uuidv7();
    const batch = [log(scriptId), log(scriptId), log(scriptId)];
    const published: string[] = [];
    const unsubscribe = m.services.feed.subscribe(scriptId, (s) => published.push(s.id));
    expect(await writer.writeBatch(batch)).toBe(3);
    expect(await writer.writeBatch(batch)).toBe(0); // the retry after a lost answer
    unsubscribe();
    expect(published.sort()).toEqual(batch.map((l) => l.id).sort());

    // Through the real sink: a row that is not an execution log and a row PostgreSQL refuses
    // are dropped, the rest stored.
    const dir = mkdtempSync(join(tmpdir(), "picloud-sink-"));
    const sink = new BufferedLogSink({ writer, spill: SpillStore.inDataDir(dir) });
    const good = [log(scriptId), log(scriptId)];
    sink.write(good[0] as ExecutionLog);
    sink.write(log(scriptId, { id: "not-a-uuid" }));
    sink.write(log(scriptId, { createdAt: "the day after tomorrow" }));
    sink.write(good[1] as ExecutionLog);
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
    expect(sink.stats()).toMatchObject({ written: 2, dropped: 2, failed: 0 });
    const sql = postgres(db.url, { max: 1 });
    const rows = await sql<{ id: string }[]>`select id::text as id from execution_logs where script_id = ${scriptId}`;
    await sql.end();
    expect(rows.map((r) => r.id).sort()).toEqual([...batch, ...good].map((l) => l.id).sort());
  });

  it("answers a log batch with the rows it rejected and why, storing the others (no SQLSTATE inside a 400)", async () => {
    const scriptId = uuidv7();
    const good = log(scriptId);
    const refused = log(scriptId, { createdAt: "the day after tomorrow" });
    const res = await cluster("/execution-logs", {
      logs: [{ id: uuidv7(), scriptId, status: "success" }, good, "not even an object", refused],
    });
    expect(res.status).toBe(200);
    const body = LogBatchResponseSchema.parse(await res.json());
    expect(body).toMatchObject({ received: 4, inserted: 1 });
    expect(body.rejected.map((r) => [r.index, r.reason])).toEqual([
      [0, "invalid"],
      [2, "invalid"],
      [3, "refused"],
    ]);
    expect(body.rejected[0]?.message).toMatch(/scriptName/);
    expect(body.rejected[2]?.message).toMatch(/^SQLSTATE 22007/);
    // A batch that is not a batch at all is a bad request in the error contract.
    const bad = await cluster("/execution-logs", { rows: [] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: "bad_request", details: { issues: [{ path: ["logs"] }] } });
  });

  it("validates request bodies against the protocol's schemas", async () => {
    for (const [path, body] of [
      ["/invoke-keys/verify", { scriptId: 42, key: "k" }],
      ["/invoke-keys/verify", "nope"],
      ["/admin/verify", { token: ["a"] }],
    ] as const) {
      const res = await cluster(path, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe("bad_request");
    }
    const notJson = await fetch(`${base}/internal/cluster/admin/verify`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLUSTER_TOKEN}`, "content-type": "application/json" },
      body: "{",
    });
    expect(notJson.status).toBe(400);
  });

  it("the client refuses an answer outside the protocol", async () => {
    const server = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ valid: "yes" }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const { port } = server.address() as AddressInfo;
      const client = new ManagerClient({ url: `http://127.0.0.1:${port}`, token: CLUSTER_TOKEN });
      const err = await client.call(CLUSTER_ROUTES.verifyAdmin, { body: { token: "x" } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ManagerAnswerError);
      expect(String(err)).toMatch(/outside the protocol/);
    } finally {
      server.close();
    }
  });

  it("a drain ends open change streams and dashboard log streams instead of waiting for its deadline", async () => {
    const dir = mkdtempSync(join(tmpdir(), "picloud-manager-drain-"));
    const other = await startManager({
      PORT: String(await freePort()),
      HOST: "127.0.0.1",
      DATABASE_URL: db.url,
      PICLOUD_CLUSTER_TOKEN: CLUSTER_TOKEN,
      PICLOUD_ADMIN_TOKEN: ADMIN,
      PICLOUD_DATA_DIR: dir,
      PICLOUD_LOG_LEVEL: "silent",
      PICLOUD_SHUTDOWN_TIMEOUT_MS: "600000", // far beyond this test's timeout
    });
    try {
      const url = other.listening.url;
      await fetch(`${url}/api/scripts`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "streamed", source: `export default () => 1` }),
      });
      const changes = await fetch(`${url}/internal/cluster/changes`, {
        headers: { authorization: `Bearer ${CLUSTER_TOKEN}` },
      });
      const logs = await fetch(`${url}/api/scripts/streamed/logs/stream`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      expect([changes.status, logs.status]).toEqual([200, 200]);
      const drained = (res: Response) =>
        (async () => {
          try {
            for await (const _ of res.body ?? []);
          } catch {
            // cut: also an end
          }
        })();
      const ends = Promise.all([drained(changes), drained(logs)]);
      await other.stop();
      await ends;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
