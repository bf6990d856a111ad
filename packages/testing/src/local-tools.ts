import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The workspace root (this file is packages/testing/src/local-tools.ts). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * Where tests keep the tools they brought in through a package registry (a Chromium
 * unpacked from its npm package, Debian's caddy unpacked from its .deb): inside the
 * project and git-ignored, filled on the first run only.
 */
export const LOCAL_TOOLS_DIR = join(REPO_ROOT, "tools", "local");

/**
 * `LOCAL_TOOLS_DIR/name`, filled once by `fill(dir)`. The filling happens in a temporary
 * sibling that is renamed into place, so test files running at once in several workers
 * never see half a tool, and an interrupted run leaves nothing that looks complete.
 */
export async function installOnce(name: string, fill: (dir: string) => Promise<void>): Promise<string> {
  const target = join(LOCAL_TOOLS_DIR, name);
  if (existsSync(target)) return target;
  await mkdir(LOCAL_TOOLS_DIR, { recursive: true });
  const tmp = await mkdtemp(join(LOCAL_TOOLS_DIR, `.${name}-`));
  try {
    await fill(tmp);
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    // Another worker finished first: its copy is as good as ours.
    if (existsSync(target)) return target;
    throw e;
  }
  return target;
}

/** The first executable called `name` on PATH, or null. */
export function onPath(name: string, path: string = process.env["PATH"] ?? ""): string | null {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Runs a command to completion; throws with its output's last line when it fails. */
export function runOrThrow(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    const last = `${r.stderr}\n${r.stdout}`.trim().split("\n").filter(Boolean).at(-1) ?? "";
    throw new Error(`\`${cmd} ${args.join(" ")}\` exited with ${r.status}: ${last}`);
  }
}

/** Whether this process runs as root (PostgreSQL refuses to; apt-get update needs it). */
export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}
