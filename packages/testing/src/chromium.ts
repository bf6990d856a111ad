import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { installOnce, onPath } from "./local-tools.ts";

/** What playwright-core's `chromium.launch` needs to start the tests' Chromium. */
export interface TestChromium {
  executablePath: string;
  /** Flags this binary needs (add your own after them). */
  args: string[];
  /** Variables to add to the browser's environment (`{ ...process.env, ...env }`). */
  env: Record<string, string>;
  /** Where it came from, for messages. */
  source: "PICLOUD_TEST_CHROMIUM" | "PATH" | "@sparticuz/chromium";
}

const localRequire = createRequire(import.meta.url);

/**
 * The headless Chromium that browser tests drive with playwright-core, never a download
 * from a browser CDN:
 * 1. `PICLOUD_TEST_CHROMIUM`, a path to a Chromium binary;
 * 2. `chromium` (or `chromium-browser`) on PATH, e.g. Debian's /usr/bin/chromium;
 * 3. the Chromium shipped inside the `@sparticuz/chromium` npm package (x64 Linux),
 *    unpacked once into tools/local/ with the NSS, NSPR and expat libraries and the fonts
 *    it ships, so it needs only glibc (2.34 or newer) and libgcc_s from the machine.
 */
export async function testChromium(): Promise<TestChromium> {
  const fromEnv = process.env["PICLOUD_TEST_CHROMIUM"];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`PICLOUD_TEST_CHROMIUM=${fromEnv}: no such file`);
    return { executablePath: fromEnv, args: ["--no-sandbox"], env: {}, source: "PICLOUD_TEST_CHROMIUM" };
  }
  const system = onPath("chromium") ?? onPath("chromium-browser");
  if (system) return { executablePath: system, args: ["--no-sandbox"], env: {}, source: "PATH" };
  return npmChromium();
}

async function npmChromium(): Promise<TestChromium> {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(
      `no Chromium for the browser tests: @sparticuz/chromium ships x64 Linux only (this is ${process.platform}-${process.arch}); install Chromium (Debian: \`sudo apt-get install -y chromium\`) or set PICLOUD_TEST_CHROMIUM`,
    );
  }
  // build/index.js -> the package's own package.json (its exports do not list it).
  const pkgJson = join(dirname(localRequire.resolve("@sparticuz/chromium")), "..", "package.json");
  const { version } = JSON.parse(await readFile(pkgJson, "utf8")) as { version: string };
  const dir = await installOnce(`chromium-${version}`, (tmp) => unpackSparticuz(tmp));
  return {
    executablePath: join(dir, "chromium"),
    // The headless shell is built without the setuid sandbox helper and zygote.
    args: ["--no-sandbox", "--no-zygote"],
    env: {
      // NSS/NSPR/expat from the package's al2023 archive; SwiftShader's GL libraries.
      LD_LIBRARY_PATH: [join(dir, "al2023", "lib"), dir, process.env["LD_LIBRARY_PATH"] ?? ""]
        .filter(Boolean)
        .join(":"),
      FONTCONFIG_FILE: join(dir, "fonts.conf"),
    },
    source: "@sparticuz/chromium",
  };
}

/**
 * Unpacks the package's brotli archives with its own `inflate`, which writes under
 * `os.tmpdir()`: run in a child whose TMPDIR is `dir`, so nothing lands in the shared /tmp.
 */
async function unpackSparticuz(dir: string): Promise<void> {
  const entry = pathToFileURL(localRequire.resolve("@sparticuz/chromium")).href;
  const script = `
    import { dirname, join } from "node:path";
    import { fileURLToPath } from "node:url";
    const { inflate } = await import(${JSON.stringify(entry)});
    const bin = fileURLToPath(new URL("../bin/", ${JSON.stringify(entry)}));
    for (const f of ["chromium.br", "al2023.tar.br", "swiftshader.tar.br", "fonts.tar.br"]) await inflate(join(bin, f));
  `;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, TMPDIR: dir },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`unpacking @sparticuz/chromium failed (${code}): ${err.trim()}`)),
    );
  });
  // The package's fonts.conf points at Lambda's /tmp/fonts: ours points at the unpacked
  // fonts first, then the machine's own (if any).
  await writeFile(
    join(dir, "fonts.conf"),
    `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>${join(dir, "fonts", "fonts")}</dir>
  <dir>/usr/share/fonts</dir>
  <dir>/usr/local/share/fonts</dir>
  <cachedir>${join(dir, "fonts-cache")}</cachedir>
</fontconfig>
`,
  );
}
