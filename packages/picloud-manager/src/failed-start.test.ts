/**
 * A start that fails part way closes everything it had opened (issue 12): the pool and
 * the LISTEN connection, the compiler child, the retention job. Checked from outside:
 * PostgreSQL's own list of connections and this process's children.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, databaseConnections, eventually, startOnTakenPort } from "@picloud/testing";
import { describe, expect, it } from "vitest";
import { startManager } from "./manager.ts";

describe("picloud-manager: a failed start closes what it opened", () => {
  it("when its port is taken: database connections and the compiler child are gone", async () => {
    const db = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), "picloud-manager-failed-"));
    try {
      const env = (port: number) => ({
        HOST: "127.0.0.1",
        PORT: String(port),
        DATABASE_URL: db.url,
        PICLOUD_CLUSTER_TOKEN: "cluster-token-for-tests-0123456789abcdef",
        PICLOUD_ADMIN_TOKEN: "admin-token-for-tests-0123",
        PICLOUD_DATA_DIR: dataDir,
      });
      const { closed } = await startOnTakenPort((port, logger) => startManager(env(port), { logger }));
      expect(closed).toEqual(["change feed", "compiler", "database", "retention"]);
      await eventually(async () => (await databaseConnections(db.name)) === 0, 10_000, "no database connection left");
    } finally {
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
