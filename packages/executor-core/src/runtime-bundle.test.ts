import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ivm from "isolated-vm";
import { afterEach, describe, expect, it } from "vitest";
import { loadRuntime, RUNTIME_FILENAME, runtimeFingerprint, runtimeSource } from "./runtime-bundle.ts";

/** What bootstrap puts on the global object (script-api.ts `ScriptGlobals`, plus env and self). */
const SCRIPT_GLOBALS = [
  "console",
  "log",
  "setTimeout",
  "setInterval",
  "clearTimeout",
  "clearInterval",
  "queueMicrotask",
  "crypto",
  "structuredClone",
  "TextEncoder",
  "TextDecoder",
  "atob",
  "btoa",
  "URL",
  "URLSearchParams",
  "Headers",
  "Request",
  "Response",
  "fetch",
  "DOMException",
  "Event",
  "EventTarget",
  "AbortController",
  "AbortSignal",
  "performance",
  "env",
  "self",
];

let isolate: ivm.Isolate | null = null;
afterEach(() => {
  if (isolate && !isolate.isDisposed) isolate.dispose();
  isolate = null;
});

async function freshContext(): Promise<ivm.Context> {
  isolate = new ivm.Isolate({ memoryLimit: 32 });
  return isolate.createContext();
}

const globalNames = (ctx: ivm.Context): Promise<string[]> =>
  ctx.eval("Object.getOwnPropertyNames(globalThis).sort()", { copy: true }) as Promise<string[]>;

/** Host callbacks that do nothing, shaped as sandbox/protocol.ts HostBindings. */
function idleHost(): Record<string, ivm.Callback | ivm.Reference> {
  return {
    log: new ivm.Callback(() => {}),
    fetch: new ivm.Reference(async () => ({ ok: false, message: "no network here" })),
    sleep: new ivm.Reference(async () => {}),
    random: new ivm.Callback((n: number) => new Uint8Array(n)),
    crypto: new ivm.Callback(() => new Uint8Array(0)),
    abortFetch: new ivm.Callback(() => {}),
  };
}

async function bootstrapped(ctx: ivm.Context): Promise<{ fn: ivm.Reference; api: ivm.Reference }> {
  const fn = (await ctx.eval(runtimeSource(), { filename: RUNTIME_FILENAME, reference: true })) as ivm.Reference;
  const api = (await fn.apply(undefined, [idleHost()], {
    arguments: { copy: true },
    result: { reference: true },
  })) as ivm.Reference;
  return { fn, api };
}

describe("the runtime bundle (src/sandbox/*.ts, bundled by esbuild)", () => {
  it("is one strict-mode script whose value is the bootstrap function; evaluating it leaves the global object as it was", async () => {
    const ctx = await freshContext();
    const before = await globalNames(ctx);
    const fn = (await ctx.eval(runtimeSource(), { filename: RUNTIME_FILENAME, reference: true })) as ivm.Reference;
    expect(fn.typeof).toBe("function");
    expect(await globalNames(ctx)).toEqual(before);
    expect(runtimeSource()).toMatch(/^\(function\(\)\{"use strict";/);
  });

  it("bootstrap installs exactly the script-facing globals, removes WebAssembly, and hands back named entry points", async () => {
    const ctx = await freshContext();
    const before = await globalNames(ctx);
    expect(before).toContain("WebAssembly");
    const { api } = await bootstrapped(ctx);
    const after = await globalNames(ctx);
    // V8 has a console of its own: the runtime's replaces it; everything else is added.
    const added = after.filter((n) => !before.includes(n)).sort();
    expect(added).toEqual(SCRIPT_GLOBALS.filter((n) => n !== "console").sort());
    expect(await ctx.eval("console.table === console.log && Object.keys(console).join()", { copy: true })).toBe(
      "log,info,debug,trace,warn,error,assert,table,dir",
    );
    expect(after).not.toContain("WebAssembly");
    const shape = await ctx.evalClosure(
      "return { keys: Object.keys($0), frozen: Object.isFrozen($0), fns: Object.values($0).every((f) => typeof f === 'function') }",
      [api.derefInto()],
      { result: { copy: true } },
    );
    expect(shape).toEqual({
      keys: ["begin", "setModule", "invoke", "invokeStart", "takeResult", "startedResult"],
      frozen: true,
      fns: true,
    });
  });

  it("binds the host callbacks once: a second bootstrap call throws", async () => {
    const ctx = await freshContext();
    const { fn } = await bootstrapped(ctx);
    await expect(fn.apply(undefined, [idleHost()], { arguments: { copy: true } })).rejects.toThrow(/already set/);
  });

  it("keeps the class names scripts see (a bundled class that names itself would be renamed _X)", async () => {
    const ctx = await freshContext();
    await bootstrapped(ctx);
    const classes = [
      "URL",
      "URLSearchParams",
      "Headers",
      "Request",
      "Response",
      "DOMException",
      "Event",
      "EventTarget",
      "AbortController",
      "AbortSignal",
      "TextEncoder",
      "TextDecoder",
    ];
    const seen = await ctx.evalClosure(
      `return $0.map((n) => { let m = ""; try { globalThis[n](); } catch (e) { m = e.message; } return [globalThis[n].name, m]; });`,
      [classes],
      { arguments: { copy: true }, result: { copy: true } },
    );
    expect(seen).toEqual(classes.map((n) => [n, `Class constructor ${n} cannot be invoked without 'new'`]));
  });
});

describe("the bundle cache", () => {
  it("serves the bundle from its cache file while the inputs are unchanged, and builds it again when one changes", () => {
    const dir = mkdtempSync(join(tmpdir(), "picloud-runtime-cache-"));
    try {
      const file = join(dir, "runtime.json");
      const built = loadRuntime(file);
      expect(built).toBe(runtimeSource());
      const entry = JSON.parse(readFileSync(file, "utf8")) as { key: string; inputs: string[]; code: string };
      expect(entry.inputs).toContain(fileURLToPath(new URL("./sandbox/bootstrap.ts", import.meta.url)));
      expect(entry.code).toBe(built);

      // An entry whose inputs are as they were is used as it is.
      writeFileSync(file, JSON.stringify({ ...entry, code: "/* from the cache */" }));
      expect(loadRuntime(file)).toBe("/* from the cache */");

      // An input changed: the key no longer matches and the bundle is built again.
      const input = join(dir, "input.ts");
      writeFileSync(input, "export const a = 1;");
      writeFileSync(file, JSON.stringify({ key: runtimeFingerprint([input]), inputs: [input], code: "/* old */" }));
      expect(loadRuntime(file)).toBe("/* old */");
      writeFileSync(input, "export const a = 2;");
      expect(loadRuntime(file)).toBe(built);

      // A damaged cache file is ignored.
      writeFileSync(file, "{");
      expect(loadRuntime(file)).toBe(built);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
