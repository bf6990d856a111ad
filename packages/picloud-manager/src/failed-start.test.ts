/**
 * A start that fails part way closes everything it had opened (issue 12): the pool and
 * the LISTEN connection, the compiler child, the retention job. Checked from outside:
 * PostgreSQL's own list of connections and this process's children.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  childPids,
  closedAfterFailedStart,
  createTestDatabase,
  databaseConnections,
  eventually,
  occupiedPort,
  recordingLogger,
} from "@picloud/testing";
import { describe, expect, it } from "vitest";
import { startManager } from "./manager.ts";

describe("picloud-manager: a failed start closes what it opened", () => {
  it("when its port is taken: database connections and the compiler child are gone", async () => {
    const db = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), "picloud-manager-failed-"));
    const taken = await occupiedPort();
    const children = childPids();
    const { logger, lines } = recordingLogger();
    try {
      const env = {
        HOST: "127.0.0.1",
        PORT: String(taken.port),
        DATABASE_URL: db.url,
        PICLOUD_CLUSTER_TOKEN: "cluster-token-for-tests-0123456789abcdef",
        PICLOUD_ADMIN_TOKEN: "admin-token-for-tests-0123",
        PICLOUD_DATA_DIR: dataDir,
      };
      await expect(startManager(env, { logger })).rejects.toThrow(/EADDRINUSE/);
      expect(closedAfterFailedStart(lines)).toEqual(["change feed", "compiler", "database", "retention"]);
      await eventually(async () => (await databaseConnections(db.name)) === 0, 10_000, "no database connection left");
      await eventually(() => childPids().join() === children.join(), 10_000, "no child process left");
    } finally {
      await taken.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
