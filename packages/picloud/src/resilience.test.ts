import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, TcpProxy, testPgUrl } from "@picloud/testing";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { eventually, freePort, startTestServer, TEST_ADMIN_TOKEN } from "./test-server.ts";

const pg = new URL(testPgUrl());

async function rowsById(url: string, scriptName: string): Promise<Map<string, number>> {
  const sql = postgres(url, { max: 1 });
  try {
    const rows = await sql<{ id: string; n: number }[]>`
      select id::text as id, count(*)::int as n from execution_logs where script_name = ${scriptName} group by id`;
    return new Map(rows.map((r) => [r.id, r.n]));
  } finally {
    await sql.end();
  }
}

describe("execution logs survive a database outage and a SIGTERM", () => {
  it("keeps every row while PostgreSQL is unreachable and writes each exactly once when it returns", async () => {
    const proxy = new TcpProxy({ host: pg.hostname, port: Number(pg.port || 5432) });
    await proxy.start();
    const db = await createTestDatabase();
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    const s = await startTestServer("pglite", { DATABASE_URL: viaProxy.toString() });
    try {
      await s.createScript("steady", `export default () => "ok"`);
      const ids: string[] = [];
      const call = async () => {
        const res = await fetch(`${s.url}/api/execute/steady`);
        expect(res.status).toBe(200);
        ids.push(res.headers.get("x-picloud-execution-id") ?? "");
      };
      for (let i = 0; i < 10; i++) await call();
      await proxy.stop(); // the database is gone for the server
      for (let i = 0; i < 20; i++) await call();
      const during = s.running.services.sink.stats();
      expect(during.buffered + during.spilled + during.written).toBeGreaterThanOrEqual(20);
      await new Promise((r) => setTimeout(r, 500));
      await proxy.start(); // back, same port
      for (let i = 0; i < 10; i++) await call();
      const stored = await eventually(async () => {
        const m = await rowsById(db.url, "steady");
        return m.size >= ids.length ? m : undefined;
      }, 30_000);
      expect(stored.size).toBe(ids.length);
      for (const id of ids) expect(stored.get(id), id).toBe(1);
    } finally {
      await s.stop();
      await proxy.stop();
      await db.drop();
    }
  }, 60_000);

  it("SIGTERM during a load run drains in-flight requests, flushes the sink, exits 0, and loses no row", async () => {
    const db = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), "picloud-sigterm-"));
    const port = await freePort();
    const bin = fileURLToPath(new URL("./bin.ts", import.meta.url));
    const child = spawn(process.execPath, [bin], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: db.url,
        PICLOUD_DATA_DIR: dataDir,
        PICLOUD_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        PICLOUD_LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    try {
      await eventually(async () => (await fetch(`${base}/ready`)).ok, 30_000);
      const create = await fetch(`${base}/api/scripts`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({
          name: "busy",
          source: `export default () => new Promise((r) => setTimeout(() => r("ok"), 20))`,
        }),
      });
      expect(create.status).toBe(201);
      const ids: string[] = [];
      let stop = false;
      const worker = async () => {
        while (!stop) {
          try {
            const res = await fetch(`${base}/api/execute/busy`);
            const id = res.headers.get("x-picloud-execution-id");
            if (res.status === 200 && id) ids.push(id);
            await res.arrayBuffer();
          } catch {
            return; // connection refused: the server stopped accepting
          }
        }
      };
      const workers = Array.from({ length: 4 }, worker);
      await new Promise((r) => setTimeout(r, 700));
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        stop = true;
      }, 5000);
      await Promise.all(workers);
      clearTimeout(timer);
      expect(await exited).toBe(0);
      expect(ids.length).toBeGreaterThan(10);
      const stored = await rowsById(db.url, "busy");
      for (const id of ids) expect(stored.get(id), id).toBe(1);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
      await db.drop();
      if (process.env["DEBUG_PICLOUD"]) process.stderr.write(stderr);
    }
  }, 60_000);
});
