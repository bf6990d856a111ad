/**
 * What the browser suites share: the real all-in-one server as a child process on a loopback
 * port with a fresh PostgreSQL database, and a headless Chromium driven by playwright-core
 * (`testChromium`: Debian's, or the one inside the `@sparticuz/chromium` npm package; never
 * a download from a browser CDN).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, freePort, type TestDatabase, testChromium } from "@picloud/testing";
import { type Browser, chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, "../..");
export const buildDir = join(repo, "dashboard", "build");

export interface E2EServer {
  base: string;
  process: ChildProcess;
  /** What the server printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

async function waitReady(url: string, server: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`server exited (${server.exitCode}):\n${output()}`);
    try {
      const r = await fetch(`${url}/ready`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server not ready in time:\n${output()}`);
}

/** Starts `packages/picloud/src/bin.ts` with the built dashboard; resolves once /ready answers 200. */
export async function startServer(token: string, env: Record<string, string> = {}): Promise<E2EServer> {
  if (!existsSync(join(buildDir, "index.html"))) {
    throw new Error("dashboard/build is missing: run `pnpm run build:dashboard` first");
  }
  const db: TestDatabase = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), "picloud-e2e-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let out = "";
  const server = spawn(process.execPath, ["--no-node-snapshot", join(repo, "packages/picloud/src/bin.ts")], {
    cwd: repo,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: db.url,
      PICLOUD_ADMIN_TOKEN: token,
      PICLOUD_DATA_DIR: dataDir,
      PICLOUD_DASHBOARD_DIR: buildDir,
      PICLOUD_LOG_LEVEL: "warn",
      PICLOUD_NODE_ID: "e2e-node",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  server.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const output = () => out.slice(-4000);
  await waitReady(base, server, output);
  return {
    base,
    process: server,
    output,
    async stop() {
      if (server.exitCode === null) {
        server.kill("SIGTERM");
        await new Promise<void>((r) => {
          const t = setTimeout(() => {
            server.kill("SIGKILL");
            r();
          }, 8000);
          server.once("exit", () => {
            clearTimeout(t);
            r();
          });
        });
      }
      await db.drop().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The tests' Chromium (see `testChromium`), headless. */
export async function launchChromium(): Promise<Browser> {
  const chrome = await testChromium();
  return chromium.launch({
    executablePath: chrome.executablePath,
    env: { ...process.env, ...chrome.env },
    args: [
      ...chrome.args,
      "--headless",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
