import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildOptions } from "esbuild";

// esbuild is loaded only to build: a start-up served from the cache file skips it (~30 ms).
const require = createRequire(import.meta.url);
const esbuild = (): typeof import("esbuild") => require("esbuild");
const esbuildVersion = (require("esbuild/package.json") as { version: string }).version;

/** This package: imports of the runtime (npm packages included) resolve as from here. */
const PACKAGE_DIR = fileURLToPath(new URL("../", import.meta.url));

/**
 * Where the bundle is kept between processes. node_modules/.cache: written by whoever
 * installed the package, so it is trusted as much as the runtime's own sources are.
 */
export const RUNTIME_CACHE_FILE = join(PACKAGE_DIR, "node_modules", ".cache", "picloud-runtime", "runtime.json");

/** The filename the runtime's own stack frames show (remapStack drops them). */
export const RUNTIME_FILENAME = "picloud:runtime";

/** The bundle's exports object while the script runs (local to the wrapper function). */
const EXPORTS = "__picloudRuntime";

const BUILD = {
  entryPoints: ["src/sandbox/bootstrap.ts"],
  absWorkingDir: PACKAGE_DIR,
  bundle: true,
  write: false,
  // A browser-like target: web APIs from npm resolve to their browser builds, and any
  // Node built-in fails the build instead of reaching the isolate.
  platform: "browser",
  format: "iife",
  globalName: EXPORTS,
  target: "es2024",
  // The source stays in every isolate's heap (V8 keeps it for lazy compilation): no
  // comments or indentation. Identifiers are kept: class names are visible to scripts.
  minifyWhitespace: true,
  legalComments: "none",
  charset: "utf8",
  logLevel: "silent",
  tsconfigRaw: { compilerOptions: { useDefineForClassFields: true, verbatimModuleSyntax: true } },
  // One function expression, called at once: the exports object stays local to it, and
  // the whole runtime runs in strict mode.
  banner: { js: '(function(){"use strict";' },
  footer: { js: `return ${EXPORTS}.bootstrap;})()` },
} as const satisfies BuildOptions;

let cached: string | null = null;

/**
 * The in-isolate runtime as one script (`src/sandbox/*.ts` bundled by esbuild; see
 * docs/executor.md, "Runtime layout"), made once per process: from the cache file when its
 * inputs are unchanged, otherwise built (and the cache file rewritten). Evaluated in a fresh
 * context, its value is the `bootstrap` function; nothing is left on the global object.
 */
export function runtimeSource(): string {
  cached ??= loadRuntime(RUNTIME_CACHE_FILE);
  return cached;
}

interface CacheEntry {
  key: string;
  /** Absolute paths of every file the bundle was built from. */
  inputs: string[];
  code: string;
}

/**
 * The bundle, from `cacheFile` when it was built from exactly the files that are there now
 * (the same esbuild and options), else built afresh and written back (best effort: a
 * read-only install keeps it in memory only).
 */
export function loadRuntime(cacheFile: string): string {
  const hit = readCache(cacheFile);
  if (hit !== null) return hit;
  const out = esbuild().buildSync({ ...BUILD, metafile: true });
  const code = out.outputFiles[0]?.text;
  if (code === undefined) throw new Error("esbuild produced no runtime bundle");
  const inputs = Object.keys(out.metafile.inputs).map((p) => resolve(PACKAGE_DIR, p));
  const key = runtimeFingerprint(inputs);
  if (key !== null) {
    try {
      mkdirSync(dirname(cacheFile), { recursive: true });
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ key, inputs, code } satisfies CacheEntry));
      renameSync(tmp, cacheFile); // atomic: concurrent starts never read half a file
    } catch {
      // not writable: this process keeps its copy in memory
    }
  }
  return code;
}

function readCache(cacheFile: string): string | null {
  try {
    const c = JSON.parse(readFileSync(cacheFile, "utf8")) as Partial<CacheEntry>;
    if (typeof c.key !== "string" || typeof c.code !== "string" || !Array.isArray(c.inputs)) return null;
    return runtimeFingerprint(c.inputs.map(String)) === c.key ? c.code : null;
  } catch {
    return null;
  }
}

/** A digest of esbuild's version, the build options and every input's path and contents; null if one is gone. */
export function runtimeFingerprint(inputs: string[]): string | null {
  const h = createHash("sha256").update(esbuildVersion).update(JSON.stringify(BUILD));
  for (const file of inputs) {
    try {
      h.update(file).update("\0").update(readFileSync(file)).update("\0");
    } catch {
      return null;
    }
  }
  return h.digest("hex");
}
