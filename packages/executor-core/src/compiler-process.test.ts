import { isPiCloudError, type PiCloudError } from "@picloud/shared";
import { afterAll, describe, expect, it } from "vitest";
import { CompilerProcess } from "./compiler-process.ts";

/** 200,000 nested `[` (391 KB): crashes esbuild's service with a stack overflow (issue 10). */
export const NESTED_SOURCE = `export default () => ${"[".repeat(200_000)}${"]".repeat(200_000)};`;

async function rejection(p: Promise<unknown>): Promise<PiCloudError> {
  try {
    await p;
  } catch (e) {
    if (isPiCloudError(e)) return e;
    throw e;
  }
  throw new Error("expected a rejection");
}

describe("CompilerProcess", () => {
  const compiler = new CompilerProcess({ timeoutMs: 30_000 });
  afterAll(() => compiler.close());

  it("compiles like compileScript and refuses bad sources with the same 400", async () => {
    const { code } = await compiler.compile(`export default (req: Request) => new Response("hi" as string)`);
    expect(code).toMatch(/sourceMappingURL/);
    const e = await rejection(compiler.compile(`export default () => {\n  const x = ;\n}`));
    expect(e.code).toBe("bad_request");
    expect(e.details).toEqual({ line: 2, column: 13 });
    expect(await compiler.ready()).toBe(true);
  });

  it("contains a source that crashes esbuild: a 400, then the next compile works", async () => {
    const before = compiler.pid;
    const e = await rejection(compiler.compile(NESTED_SOURCE, { filename: "nested@v1.ts" }));
    expect(e.code).toBe("bad_request");
    expect(e.message).toMatch(/the compiler could not handle this source \(it crashed: stack overflow\)/);
    const { code } = await compiler.compile(`export default () => new Response("after")`);
    expect(code).toContain("after");
    expect(compiler.pid).not.toBe(before);
    expect(await compiler.ready()).toBe(true);
    expect(compiler.stats().crashes).toBe(1);
  });

  it("stops a compile that runs past its deadline and keeps serving", async () => {
    const slow = new CompilerProcess({ timeoutMs: 50 });
    try {
      const e = await rejection(slow.compile(NESTED_SOURCE));
      expect(e.code).toBe("bad_request");
      expect(e.message).toMatch(/took longer than 50 ms/);
      expect(slow.stats().timeouts).toBe(1);
      await expect.poll(() => slow.ready(), { timeout: 10_000 }).toBe(true);
    } finally {
      await slow.close();
    }
  });

  it("is not ready once closed", async () => {
    const c = new CompilerProcess();
    expect(await c.ready()).toBe(true);
    await c.close();
    expect(await c.ready()).toBe(false);
  });
});
