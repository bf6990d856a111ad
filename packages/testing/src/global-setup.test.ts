import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { REPO_ROOT } from "./local-tools.ts";
import { postgresAnswers } from "./pg-server.ts";
import { freePort } from "./wait.ts";

/**
 * The PostgreSQL global setup with nothing listening at PICLOUD_TEST_PG_URL, as on a fresh
 * machine: it starts an embedded server, the tests get migrated databases from it, a
 * failing test still fails the run, and the server and its files are gone afterwards.
 */
it("starts an embedded PostgreSQL when none answers, keeps a failing run failing, and cleans up", async () => {
  const tmp = mkdtempSync(join(tmpdir(), "picloud-gs-"));
  // As root the server runs as `postgres`, which must reach its files under TMPDIR (as in /tmp).
  chmodSync(tmp, 0o755);
  const closed = await freePort();
  try {
    const child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, "node_modules/vitest/vitest.mjs"),
        "run",
        "--config",
        "packages/testing/test/vitest.fixture.config.ts",
      ],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          PICLOUD_TEST_PG_URL: `postgres://postgres@127.0.0.1:${closed}/postgres`,
          TMPDIR: tmp,
          NO_COLOR: "1",
          FORCE_COLOR: undefined,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    const started = /starting an embedded PostgreSQL on 127\.0\.0\.1:(\d+)/.exec(out);
    expect(started, out).not.toBeNull();
    expect(out).toMatch(/Tests +1 failed \| 1 passed/);
    expect(out).not.toContain("TypeError");
    expect(code, out).toBe(1);
    expect(await postgresAnswers(`postgres://postgres@127.0.0.1:${started?.[1]}/postgres`)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.startsWith("picloud-pg-"))).toEqual([]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}, 120_000);
