import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { installOnce, isRoot, LOCAL_TOOLS_DIR, onPath, runOrThrow } from "./local-tools.ts";

const INSTALL_HINT = "`sudo apt-get install -y caddy`";
const LOCAL_CADDY = join(LOCAL_TOOLS_DIR, "caddy", "usr", "bin", "caddy");
let found: Promise<string> | undefined;

/**
 * The `caddy` binary for the Caddyfile checks and the cluster test. No package on the npm
 * registry ships a Caddy binary (the ones named caddy download it from GitHub when
 * installed), so it comes from Debian's archive:
 * 1. `PICLOUD_TEST_CADDY`, a path to a caddy binary;
 * 2. `caddy` on PATH (Debian's package installed, as `.ci/run` does);
 * 3. Debian's `caddy` package fetched with `apt-get download` (no root needed) and unpacked
 *    with `dpkg-deb` into tools/local/caddy, once; as root, `apt-get update` first when the
 *    package lists are missing;
 * otherwise it fails with one line naming the command that installs it.
 */
export function testCaddy(): Promise<string> {
  found ??= findCaddy();
  return found;
}

async function findCaddy(): Promise<string> {
  const fromEnv = process.env["PICLOUD_TEST_CADDY"];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`PICLOUD_TEST_CADDY=${fromEnv}: no such file`);
    return fromEnv;
  }
  const system = onPath("caddy");
  if (system) return system;
  if (existsSync(LOCAL_CADDY)) return LOCAL_CADDY;
  if (!onPath("apt-get") || !onPath("dpkg-deb")) {
    throw new Error(`caddy is needed by this test and none was found: install it (Debian: ${INSTALL_HINT})`);
  }
  try {
    await installOnce("caddy", async (dir) => {
      try {
        runOrThrow("apt-get", ["download", "-qq", "caddy"], dir);
      } catch (e) {
        // A machine whose package lists were never fetched: root may fetch them.
        if (!isRoot()) throw e;
        runOrThrow("apt-get", ["update", "-qq"], dir);
        runOrThrow("apt-get", ["download", "-qq", "caddy"], dir);
      }
      const deb = readdirSync(dir).find((f) => f.endsWith(".deb"));
      if (!deb) throw new Error("apt-get download caddy left no .deb");
      runOrThrow("dpkg-deb", ["-x", deb, "."], dir);
      rmSync(join(dir, deb));
    });
  } catch (e) {
    throw new Error(
      `caddy is needed by this test and Debian's package could not be fetched (${(e as Error).message.split("\n")[0]}): run ${INSTALL_HINT}`,
    );
  }
  if (!existsSync(LOCAL_CADDY))
    throw new Error(`caddy is needed by this test: ${LOCAL_CADDY} is missing; run ${INSTALL_HINT}`);
  return LOCAL_CADDY;
}
