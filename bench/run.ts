/**
 * Runs every benchmark under bench/ in sequence, each in its own Node process (isolated-vm
 * needs --no-node-snapshot): `pnpm run bench`. A benchmark that fails is reported and the
 * others still run; the exit code says whether all passed.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BENCHES = ["executor.ts", "sink.ts", "logs-query.ts", "e2e.ts"];

let failed = 0;
for (const name of BENCHES) {
  const file = join(ROOT, "bench", name);
  if (!existsSync(file)) continue;
  process.stderr.write(`\n=== bench/${name} ===\n`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["--no-node-snapshot", file], { cwd: ROOT, stdio: "inherit" });
  const s = ((performance.now() - t0) / 1000).toFixed(0);
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`bench/${name} failed (${r.status ?? r.signal}) after ${s} s\n`);
  } else process.stderr.write(`bench/${name} done in ${s} s\n`);
}
process.exit(failed === 0 ? 0 : 1);
