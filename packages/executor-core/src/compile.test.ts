import { isPiCloudError, type PiCloudError } from "@picloud/shared";
import { describe, expect, it } from "vitest";
import { compileScript } from "./compile.ts";
import { InProcessExecutor } from "./in-process-executor.ts";
import { bodyText, run } from "./test-support.ts";

function compileError(src: string): PiCloudError {
  try {
    compileScript(src);
  } catch (e) {
    if (isPiCloudError(e)) return e;
    throw e;
  }
  throw new Error("expected compileScript to throw");
}

describe("compileScript", () => {
  it("strips TypeScript and keeps one ES module with a source map", () => {
    const { code } = compileScript(
      `interface A { x: number }\nexport default async (req: Request): Promise<Response> => new Response("hi" as string);`,
    );
    expect(code).not.toMatch(/interface|: Request|as string/);
    expect(code).toMatch(/export default|as default/);
    expect(code).toMatch(/sourceMappingURL=data:application\/json/);
  });

  it("rejects a syntax error with line and column", () => {
    const e = compileError(`export default () => {\n  const x = ;\n}`);
    expect(e.code).toBe("bad_request");
    expect(e.message).toMatch(/\(line 2, column 13\)$/);
    expect(e.details).toEqual({ line: 2, column: 13 });
  });

  it("rejects static and dynamic imports", () => {
    expect(compileError(`import fs from "node:fs";\nexport default () => 1;`).message).toMatch(
      /import of "node:fs" is not supported/,
    );
    expect(compileError(`export { x } from "./y";\nexport default () => 1;`).message).toMatch(/"\.\/y"/);
    expect(compileError(`export default async () => import("zz");`).message).toMatch(/dynamic import\(\) of "zz"/);
  });

  it("rejects top-level await with its position", () => {
    const e = compileError(`const x = 1;\nconst v = await Promise.resolve(1);\nexport default () => v;`);
    expect(e.message).toMatch(/top-level await is not supported.*\(line 2, column 11\)$/);
  });

  it("rejects a module without a default export", () => {
    expect(compileError(`export const handler = () => 1;`).message).toMatch(/no default export/);
  });

  it("accepts a mention of `require` (esbuild's `<runtime>` shim is not an import) and runs it", async () => {
    const { code } = compileScript(`export default () => new Response(typeof require)`);
    expect(code).not.toMatch(/__require/);
    const ex = new InProcessExecutor();
    try {
      const o = await run(ex, `export default () => new Response(typeof require)`);
      expect(o.status).toBe("success");
      expect(bodyText(o)).toBe("undefined");
    } finally {
      await ex.close();
    }
    // A require() call is still refused as what it is.
    expect(compileError(`export default () => require("zz")`).message).toMatch(/require\(\) of "zz" is not supported/);
  });

  it("accepts `export default { fetch }` and `export { h as default }`", () => {
    expect(() => compileScript(`export default { fetch() { return "x"; } };`)).not.toThrow();
    expect(() => compileScript(`const h = () => 1; export { h as default };`)).not.toThrow();
  });
});
