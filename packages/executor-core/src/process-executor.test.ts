import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createExecutor } from "./create-executor.ts";
import { InProcessExecutor } from "./in-process-executor.ts";
import { ProcessExecutor } from "./process-executor.ts";
import { RpcExecutorClient } from "./rpc/client.ts";
import { serveExecutor } from "./rpc/server.ts";
import { bodyText, expectHealthy, request, run } from "./test-support.ts";

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers) await c();
});

describe("ProcessExecutor supervision", () => {
  it("a killed child fails only in-flight invocations (executor_crashed), restarts, and answers again", async () => {
    const ex = new ProcessExecutor({ stdio: "ignore" });
    closers.push(() => ex.close());
    expect(await ex.ready()).toBe(true);
    await expectHealthy(ex);
    const firstPid = ex.pid;
    const inflight = [1, 2].map((i) =>
      run(ex, `export default () => new Promise(() => {})`, { id: `hang-${i}`, budgets: { wallTimeMs: 10_000 } }),
    );
    await new Promise((r) => setTimeout(r, 200));
    process.kill(firstPid ?? 0, "SIGKILL");
    const outcomes = await Promise.all(inflight);
    expect(outcomes.map((o) => [o.status, o.reason])).toEqual([
      ["error", "executor_crashed"],
      ["error", "executor_crashed"],
    ]);
    await expectHealthy(ex);
    expect(ex.pid).not.toBe(firstPid);
    expect(ex.stats().crashes).toBe(1);
  });

  it("in a crash loop, the next invocation waits for the paused restart instead of failing", async () => {
    const ex = new ProcessExecutor({ stdio: "ignore" });
    closers.push(() => ex.close());
    for (let i = 0; i < 6; i++) {
      await expectHealthy(ex); // a live child, then kill it: six crashes well inside 10 s
      const pid = ex.pid;
      process.kill(pid ?? 0, "SIGKILL");
      await expect.poll(() => ex.pid !== pid).toBe(true);
    }
    expect(ex.stats().crashes).toBe(6);
    await expectHealthy(ex);
  });

  it("kills a child over its RSS cap (in-flight invocations: executor_crashed)", async () => {
    const ex = new ProcessExecutor({ stdio: "ignore", maxRssMb: 1 }); // any child is over 1 MB
    closers.push(() => ex.close());
    const o = await run(ex, `export default () => new Promise(() => {})`, {
      id: "rss",
      budgets: { wallTimeMs: 20_000 },
    });
    expect([o.status, o.reason]).toEqual(["error", "executor_crashed"]);
    expect(ex.stats().crashes).toBeGreaterThanOrEqual(1);
  });

  it("createExecutor returns a ProcessExecutor by default and an InProcessExecutor on request", async () => {
    const a = createExecutor({ stdio: "ignore" });
    const b = createExecutor({ mode: "in-process" });
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    expect(a).toBeInstanceOf(ProcessExecutor);
    expect(b).toBeInstanceOf(InProcessExecutor);
  });
});

describe("RPC over a unix socket", () => {
  it("serves invocations, stats and evict; a dropped connection resolves in-flight calls as executor_crashed", async () => {
    const inner = new InProcessExecutor();
    const path = join(tmpdir(), `picloud-exec-${process.pid}-${Date.now()}.sock`);
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      sockets.push(s);
      serveExecutor(s, inner);
    });
    server.listen(path);
    await once(server, "listening");
    closers.push(async () => {
      server.close();
      await inner.close();
    });
    const sock = connect(path);
    await once(sock, "connect");
    const client = new RpcExecutorClient(sock);
    expect(await client.ready()).toBe(true);
    const o = await run(client, `export default (req) => new Response(new Uint8Array([0, 255, 7]))`, { id: "bin" });
    expect(Array.from(o.response?.body ?? [])).toEqual([0, 255, 7]);
    expect(client.stats().scriptsLoaded).toBe(1);
    client.evict("bin");
    await expect.poll(() => inner.stats().scriptsLoaded).toBe(0);
    const pending = run(client, `export default () => new Promise(() => {})`, {
      id: "hang",
      budgets: { wallTimeMs: 10_000 },
    });
    await new Promise((r) => setTimeout(r, 100));
    for (const s of sockets) s.destroy();
    const lost = await pending;
    expect([lost.status, lost.reason]).toEqual(["error", "executor_crashed"]);
    const after = await run(client, `export default () => 1`);
    expect([after.status, after.reason]).toEqual(["error", "executor_unavailable"]);
  });
});

describe("warm pool", () => {
  it("keeps versions and scripts apart, grows per-version concurrency, evicts old versions", async () => {
    const ex = new InProcessExecutor({ maxIsolatesPerVersion: 3 });
    closers.push(() => ex.close());
    const src = `let hits = 0; export default async (req) => { hits++; await new Promise((r) => setTimeout(r, 50)); return { v: VERSION, hits }; }`;
    const v1 = src.replace("VERSION", "1");
    const v2 = src.replace("VERSION", "2");
    const first = await run(ex, v1, { id: "p", version: 1 });
    expect(JSON.parse(bodyText(first))).toEqual({ v: 1, hits: 1 });
    const again = await run(ex, v1, { id: "p", version: 1 });
    expect(JSON.parse(bodyText(again))).toEqual({ v: 1, hits: 2 });
    const newer = await run(ex, v2, { id: "p", version: 2 });
    expect(JSON.parse(bodyText(newer))).toEqual({ v: 2, hits: 1 });
    const other = await run(ex, v1, { id: "q", version: 1 });
    expect(JSON.parse(bodyText(other))).toEqual({ v: 1, hits: 1 });
    const burst = await Promise.all([1, 2, 3, 4, 5].map(() => ex.invoke(request(v2, { id: "p", version: 2 }))));
    expect(burst.every((o) => o.status === "success")).toBe(true);
    expect(ex.stats().isolatesWarm).toBe(1 + 3 + 1);
    ex.evict("p", 2);
    expect(ex.stats()).toMatchObject({ isolatesWarm: 4, scriptsLoaded: 2 });
    ex.evict("p");
    expect(ex.stats()).toMatchObject({ isolatesWarm: 1, scriptsLoaded: 1 });
  });

  it("discards an isolate after a timeout (module state starts over)", async () => {
    const ex = new InProcessExecutor();
    closers.push(() => ex.close());
    const src = `let n = 0; export default (req) => { n++; if (new URL(req.url).searchParams.has("spin")) for (;;) {} return n; }`;
    expect(bodyText(await run(ex, src, { id: "t" }))).toBe("1");
    const t = await run(ex, src, { id: "t", url: "https://x.test/?spin" });
    expect([t.status, t.reason]).toEqual(["timeout", "cpu_time"]);
    expect(bodyText(await run(ex, src, { id: "t" }))).toBe("1");
  });

  it("disposes least recently used idle isolates over the count and memory caps", async () => {
    const byCount = new InProcessExecutor({ maxIsolates: 2 });
    const byMemory = new InProcessExecutor({ maxTotalMemoryMb: 1 });
    closers.push(
      () => byCount.close(),
      () => byMemory.close(),
    );
    const src = `let n = 0; export default () => ++n;`;
    for (const id of ["a", "b", "c"]) await run(byCount, src, { id });
    expect(byCount.stats().isolatesWarm).toBe(2);
    expect(bodyText(await run(byCount, src, { id: "c" }))).toBe("2"); // c stayed warm
    expect(bodyText(await run(byCount, src, { id: "a" }))).toBe("1"); // a was the LRU one
    await run(byMemory, src, { id: "m" });
    expect(byMemory.stats().isolatesWarm).toBe(0); // an isolate alone is over 1 MB
  });

  it("evicts idle isolates after the idle timeout", async () => {
    const ex = new InProcessExecutor({ idleTimeoutMs: 100 });
    closers.push(() => ex.close());
    await run(ex, `export default () => 1`, { id: "idle" });
    expect(ex.stats().isolatesWarm).toBe(1);
    await expect.poll(() => ex.stats().isolatesWarm, { timeout: 3000 }).toBe(0);
  });

  it("reports a module with a bad default export as invalid_module", async () => {
    const ex = new InProcessExecutor();
    closers.push(() => ex.close());
    const req = request(`export default () => 1`, { id: "bad" });
    req.script.code = "export default 42;";
    const o = await ex.invoke(req);
    expect([o.status, o.reason]).toEqual(["error", "invalid_module"]);
    req.script.code = "export default (() => {";
    const syntax = await ex.invoke(req);
    expect([syntax.status, syntax.reason, syntax.error?.name]).toEqual(["error", "invalid_module", "SyntaxError"]);
    expect(syntax.error?.stack).not.toMatch(/sandbox\.ts|isolated-vm/); // no host frames leak
    const threw = await run(ex, `throw new Error("at load");\nexport default () => 1;`, { id: "bad-load" });
    expect([threw.status, threw.reason]).toEqual(["error", "script_threw"]);
    expect(ex.stats().isolatesWarm).toBe(0); // broken isolates are not kept
  });
});
