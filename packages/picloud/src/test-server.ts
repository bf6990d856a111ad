import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, freePort, type TestDatabase } from "@picloud/testing";

export { eventually, freePort } from "@picloud/testing";

import type { ServiceOverrides } from "./services.ts";
import { type Running, startPicloud } from "./start.ts";

export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";

export interface TestServer {
  url: string;
  running: Running;
  db: TestDatabase | null;
  dataDir: string;
  /** fetch against the server with the admin token. */
  admin(path: string, init?: RequestInit): Promise<Response>;
  /** Creates a script through the API and returns its JSON. */
  createScript(name: string, source: string, extra?: Record<string, unknown>): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * The real all-in-one server on a loopback port, with a fresh real PostgreSQL database
 * (driver "postgres") or an embedded PGlite in a temp dir (driver "pglite").
 */
export async function startTestServer(
  driver: "postgres" | "pglite",
  env: Record<string, string> = {},
  overrides: ServiceOverrides = {},
): Promise<TestServer> {
  const db = driver === "postgres" ? await createTestDatabase() : null;
  const dataDir = mkdtempSync(join(tmpdir(), "picloud-test-"));
  const port = await freePort();
  const running = await startPicloud(
    {
      PORT: String(port),
      HOST: "127.0.0.1",
      PICLOUD_DATA_DIR: dataDir,
      PICLOUD_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      PICLOUD_LOG_LEVEL: "silent",
      PICLOUD_NODE_ID: "test-node",
      PICLOUD_SHUTDOWN_TIMEOUT_MS: "5000",
      ...(db ? { DATABASE_URL: db.url } : {}),
      ...env,
    },
    overrides,
  );
  const url = running.listening.url;
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(url + path, {
      ...init,
      headers: {
        authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
        ...(init.body && typeof init.body === "string" ? { "content-type": "application/json" } : {}),
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  return {
    url,
    running,
    db,
    dataDir,
    admin,
    async createScript(name, source, extra = {}) {
      const res = await admin("/api/scripts", { method: "POST", body: JSON.stringify({ name, source, ...extra }) });
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${JSON.stringify(body)}`);
      return body;
    },
    async stop() {
      await running.stop();
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
