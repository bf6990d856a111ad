import { PiCloudError } from "@picloud/shared";
import { buildSync, type Message, type Metafile, transformSync } from "esbuild";

/** Options of {@link compileScript}. */
export interface CompileOptions {
  /** Name shown in messages and source maps (e.g. `script:hello@v3`). */
  filename?: string;
}

function syntaxError(errors: Message[]): PiCloudError {
  const first = errors[0];
  const line = first?.location?.line ?? 1;
  const column = (first?.location?.column ?? 0) + 1;
  return new PiCloudError("bad_request", `${first?.text ?? "syntax error"} (line ${line}, column ${column})`, {
    details: { line, column },
  });
}

function esbuildErrors(e: unknown): Message[] | null {
  const errors = (e as { errors?: Message[] } | null)?.errors;
  return Array.isArray(errors) ? errors : null;
}

/**
 * Compiles a saved script (TypeScript or JavaScript) to the ES module the executor runs:
 * types stripped by esbuild, an inline source map appended so that error stacks point
 * into the source as saved. Throws a `bad_request` PiCloudError on a syntax error (with
 * line and 1-based column), on any import (scripts are single modules), on top-level
 * await, and when the module has no default export.
 */
export function compileScript(source: string, opts: CompileOptions = {}): { code: string } {
  const sourcefile = opts.filename ?? "script.ts";
  let code: string;
  try {
    code = transformSync(source, {
      loader: "ts",
      format: "esm",
      target: "es2022",
      sourcefile,
      sourcemap: "inline",
      sourcesContent: false,
    }).code;
  } catch (e) {
    const errors = esbuildErrors(e);
    if (errors) throw syntaxError(errors);
    throw e;
  }
  // A second pass only to learn the module's imports and exports: every import is
  // marked external so nothing is resolved from disk.
  // Top-level await is refused here: isolated-vm does not wait for a module's async
  // evaluation, so its exports would not be ready when the first request arrives.
  let meta: Metafile;
  try {
    meta = buildSync({
      stdin: { contents: source, loader: "ts", sourcefile },
      bundle: true,
      write: false,
      format: "esm",
      platform: "neutral",
      external: ["*"],
      metafile: true,
      logLevel: "silent",
      supported: { "top-level-await": false },
    }).metafile;
  } catch (e) {
    const errors = esbuildErrors(e);
    if (!errors) throw e;
    const tla = errors.find((m) => /top-level await/i.test(m.text));
    if (!tla) throw syntaxError(errors);
    const err = syntaxError([{ ...tla, text: "top-level await is not supported: await inside the handler instead" }]);
    throw err;
  }
  // `<runtime>` is esbuild's own helper module (e.g. the `__require` shim it adds for a
  // mention of `require`): not an import of the script's. The output we keep is the
  // transform's, which has no such shim, so `typeof require` stays "undefined".
  const imports = Object.values(meta.inputs).flatMap((i) => i.imports.filter((m) => m.path !== "<runtime>"));
  const first = imports[0];
  if (first) {
    const kind =
      first.kind === "dynamic-import" ? "dynamic import()" : first.kind === "require-call" ? "require()" : "import";
    throw new PiCloudError("bad_request", `${kind} of "${first.path}" is not supported: a script is a single module`, {
      details: { import: first.path },
    });
  }
  const exports = Object.values(meta.outputs).flatMap((o) => o.exports);
  if (!exports.includes("default")) {
    throw new PiCloudError(
      "bad_request",
      "the script has no default export: export a handler, e.g. `export default async (req) => new Response('hi')`",
    );
  }
  return { code };
}
