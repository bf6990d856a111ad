import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** A run of the PostgreSQL global setup on its own, for src/global-setup.test.ts. */
export default defineConfig({
  root: fileURLToPath(new URL("../../../", import.meta.url)),
  test: {
    include: ["packages/testing/test/*.fixture.ts"],
    globalSetup: ["./packages/testing/src/global-setup.ts"],
    pool: "forks",
    maxWorkers: 1,
    hookTimeout: 60_000,
  },
});
