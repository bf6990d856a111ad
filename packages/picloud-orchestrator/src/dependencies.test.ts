import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Worker nodes run the orchestrator without a database: it must load neither manager-core
 * nor a database driver (it reaches durable state through the cluster protocol only).
 */
describe("picloud-orchestrator's module graph", () => {
  const entry = new URL("./orchestrator.ts", import.meta.url).href;
  const FORBIDDEN = /\/manager-core\/|\/node_modules\/(?:\.pnpm\/)?(?:postgres|@electric-sql|drizzle-orm|pg)[@/]/;

  it("loads neither manager-core nor a database driver", () => {
    // Every module the binary's code resolves, recorded by a resolve hook in a fresh process.
    const script = `
      import { registerHooks } from "node:module";
      const seen = new Set();
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
      await import(${JSON.stringify(entry)});
      process.stdout.write(JSON.stringify([...seen]));
    `;
    const out = execFileSync(process.execPath, ["--no-node-snapshot", "--input-type=module", "-e", script], {
      encoding: "utf8",
      cwd: fileURLToPath(new URL("..", import.meta.url)),
    });
    const urls = JSON.parse(out) as string[];
    expect(urls.some((u) => u.includes("/orchestrator-core/"))).toBe(true); // the hook saw the graph
    expect(urls.some((u) => u.includes("/log-pipeline/"))).toBe(true);
    expect(urls.filter((u) => FORBIDDEN.test(u))).toEqual([]);
  });

  it("declares neither as a runtime dependency", () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const core = JSON.parse(readFileSync(new URL("../../orchestrator-core/package.json", import.meta.url), "utf8")) as {
      dependencies: Record<string, string>;
    };
    for (const deps of [manifest.dependencies, core.dependencies]) {
      expect(Object.keys(deps).filter((d) => /manager-core|^postgres$|pglite|drizzle|^pg$/.test(d))).toEqual([]);
    }
  });
});
