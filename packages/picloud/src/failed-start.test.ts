/**
 * A start that fails part way closes everything it had opened (issue 12): the compiler and
 * executor child processes, the database pool, the retention job, the sink. Checked
 * from outside: PostgreSQL's own list of connections and this process's children.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  closedAfterFailedStart,
  createTestDatabase,
  databaseConnections,
  eventually,
  freePort,
  recordingLogger,
  startOnTakenPort,
  type TestDatabase,
} from "@picloud/testing";
import postgres from "postgres";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startPicloud } from "./start.ts";
import { TEST_ADMIN_TOKEN } from "./test-server.ts";

describe("picloud: a failed start closes what it opened", () => {
  let db: TestDatabase;
  let dataDir: string;
  beforeEach(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), "picloud-failed-start-"));
  });
  afterEach(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const env = (port: number) => ({
    HOST: "127.0.0.1",
    PORT: String(port),
    DATABASE_URL: db.url,
    PICLOUD_DATA_DIR: dataDir,
    PICLOUD_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    PICLOUD_EXECUTOR_MODE: "process",
  });

  it("when its port is taken: database connections and child processes are gone", async () => {
    const { closed } = await startOnTakenPort((port, logger) => startPicloud(env(port), { logger }));
    expect(closed).toEqual(["compiler", "database", "retention", "executor", "sink"]);
    await eventually(async () => (await databaseConnections(db.name)) === 0, 10_000, "no database connection left");
  });

  it("when migrations fail: the database is closed", async () => {
    // Migrations that believe nothing was applied run `create table` on existing tables.
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    await sql`drop table drizzle.__drizzle_migrations`;
    await sql.end();
    const { logger, lines } = recordingLogger();
    await expect(startPicloud(env(await freePort()), { logger })).rejects.toThrow(/CREATE TABLE/);
    expect(closedAfterFailedStart(lines)).toEqual(["compiler", "database"]);
    await eventually(async () => (await databaseConnections(db.name)) === 0, 10_000, "no database connection left");
  });
});
