import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "bench/**/*.test.ts", "dashboard/e2e/**/*.test.ts"],
    // isolated-vm needs --no-node-snapshot on Node 20+; vitest refuses it in NODE_OPTIONS,
    // so it goes to the forked workers' execArgv.
    pool: "forks",
    execArgv: ["--no-node-snapshot"],
    maxWorkers: 2,
    globalSetup: ["./packages/testing/src/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", "./packages/testing/src/summary-reporter.ts"],
  },
});
