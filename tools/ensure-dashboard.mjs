// Builds the dashboard once, so that `npm start` serves it at `/` (skipped when built).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
if (!existsSync(join(root, "dashboard", "build", "index.html"))) {
  process.stderr.write("[picloud] building the dashboard (once)\n");
  const r = spawnSync("pnpm", ["run", "--silent", "build:dashboard"], { stdio: "inherit", cwd: root });
  if (r.status !== 0) process.stderr.write("[picloud] dashboard build failed; starting without it\n");
}
