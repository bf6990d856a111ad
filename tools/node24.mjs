#!/usr/bin/env node
// Runs a workspace script on Node 24 LTS whatever Node the machine has.
//
// `npm start` and `npm test` go through here so that a newcomer with only Node and npm can
// follow the README: when the running Node is older than 24, the pinned `node@24` package
// (a real Node binary with its headers) and pnpm are installed into tools/toolchain, the
// workspace dependencies are installed with that pnpm, and the requested root script runs
// with Node 24 first on PATH. Nothing outside the project directory is changed.
//
// Usage: node tools/node24.mjs <root-script> [args...]
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const toolchainDir = join(root, "tools", "toolchain");
const toolchainBin = join(toolchainDir, "node_modules", ".bin");
const wanted = JSON.parse(readFileSync(join(toolchainDir, "package.json"), "utf8")).dependencies;
const major = Number(process.versions.node.split(".")[0]);

function say(line) {
  process.stderr.write(`[picloud] ${line}\n`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...opts });
  if (r.error) throw r.error;
  return r.status ?? (r.signal ? 128 : 1);
}

function installedVersion(pkg) {
  const p = join(toolchainDir, "node_modules", pkg, "package.json");
  return existsSync(p) ? JSON.parse(readFileSync(p, "utf8")).version : null;
}

/** Installs the pinned toolchain when missing or stale; returns the env to run with. */
function toolchainEnv() {
  const env = { ...process.env };
  const needNode = major !== 24;
  const stale = (needNode && installedVersion("node") !== wanted.node) || installedVersion("pnpm") !== wanted.pnpm;
  if (stale) {
    say(`installing Node ${wanted.node} and pnpm ${wanted.pnpm} into tools/toolchain (once)`);
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const code = run(npm, ["install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"], {
      cwd: toolchainDir,
      env: { ...env, npm_config_nodedir: undefined, NPM_CONFIG_NODEDIR: undefined },
    });
    if (code !== 0) {
      say("could not install the toolchain from the npm registry; see the npm output above");
      process.exit(code);
    }
  }
  const pathParts = [toolchainBin];
  if (needNode) {
    // node@24 links its binary into .bin; its headers let node-gyp build for Node 24,
    // overriding a machine-wide `nodedir` that points at older headers.
    const headers = join(
      toolchainDir,
      "node_modules",
      "node",
      "node_modules",
      `node-${process.platform}-${process.arch}`,
    );
    env.npm_config_nodedir = headers;
    env.NPM_CONFIG_NODEDIR = headers;
  }
  env.PATH = [...pathParts, env.PATH ?? ""].join(process.platform === "win32" ? ";" : ":");
  return env;
}

function ensureDependencies(env) {
  const lock = join(root, "pnpm-lock.yaml");
  const marker = join(root, "node_modules", ".picloud-installed");
  const fresh = existsSync(marker) && existsSync(lock) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs;
  if (fresh) return;
  say("installing workspace dependencies with pnpm");
  const args = ["install", existsSync(lock) ? "--frozen-lockfile" : "--no-frozen-lockfile"];
  const code = run("pnpm", args, { env });
  if (code !== 0) process.exit(code);
  writeFileSync(marker, new Date().toISOString());
}

const [script, ...rest] = process.argv.slice(2);
if (!script) {
  say("usage: node tools/node24.mjs <root-script> [args...]");
  process.exit(2);
}
const env = toolchainEnv();
ensureDependencies(env);
// The script runs in its own process group, and a SIGTERM/SIGINT sent to this wrapper goes to
// the whole group: pnpm does not pass signals on to the script's own children, and the
// server must get them for its graceful drain (a supervisor signals only the top process).
const child = spawn("pnpm", ["run", "--silent", script, ...rest], { stdio: "inherit", cwd: root, env, detached: true });
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) {
  process.on(sig, () => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      child.kill(sig);
    }
  });
}
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
