import { readdirSync } from "node:fs";
import { defineConfig } from "vitest/config";

/**
 * Packages whose tests need PostgreSQL: they run in the `postgres` project, whose global
 * setup finds (or starts) the server and migrates the template database. Every other
 * package runs in `unit`, without it, so `vitest run packages/executor-core` needs no
 * database. A test that asks for a database outside this list fails saying so.
 */
const POSTGRES_PACKAGES = ["manager-core", "picloud", "picloud-manager", "picloud-orchestrator"];
const UNIT_PACKAGES = readdirSync(new URL("./packages/", import.meta.url)).filter(
  (p) => !POSTGRES_PACKAGES.includes(p),
);
const tests = (packages: string[]) => packages.map((p) => `packages/${p}/src/**/*.test.ts`);

export default defineConfig({
  test: {
    // isolated-vm needs --no-node-snapshot on Node 20+; vitest refuses it in NODE_OPTIONS,
    // so it goes to the forked workers' execArgv.
    pool: "forks",
    execArgv: ["--no-node-snapshot"],
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", "./packages/testing/src/summary-reporter.ts"],
    projects: [
      {
        extends: true,
        test: { name: "unit", include: [...tests(UNIT_PACKAGES), "bench/**/*.test.ts"] },
      },
      {
        extends: true,
        test: {
          name: "postgres",
          include: [...tests(POSTGRES_PACKAGES), "dashboard/e2e/**/*.test.ts"],
          globalSetup: ["./packages/testing/src/global-setup.ts"],
        },
      },
    ],
  },
});
