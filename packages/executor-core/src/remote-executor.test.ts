import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InProcessExecutor } from "./in-process-executor.ts";
import { parseExecutorAddress, RemoteExecutor } from "./remote-executor.ts";
import { serveExecutor } from "./rpc/server.ts";
import { bodyText, run } from "./test-support.ts";

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
});

/** An executor served on a TCP port or a unix socket, as `picloud-executor` does. */
async function serve(
  listenOn: { port: number } | { path: string },
): Promise<{ server: Server; sockets: Set<Socket>; port: number; stop(): Promise<void> }> {
  const executor = new InProcessExecutor();
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    serveExecutor(s, executor);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if ("path" in listenOn) server.listen(listenOn.path, resolve);
    else server.listen(listenOn.port, "127.0.0.1", resolve);
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    server,
    sockets,
    port,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await executor.close();
    },
  };
}

describe("parseExecutorAddress", () => {
  it("reads host:port, [v6]:port, tcp:// and unix socket paths", () => {
    expect(parseExecutorAddress("127.0.0.1:8791")).toEqual({ host: "127.0.0.1", port: 8791 });
    expect(parseExecutorAddress("tcp://executor:9000")).toEqual({ host: "executor", port: 9000 });
    expect(parseExecutorAddress("[::1]:8791")).toEqual({ host: "::1", port: 8791 });
    expect(parseExecutorAddress("/run/picloud/executor.sock")).toEqual({ path: "/run/picloud/executor.sock" });
    expect(parseExecutorAddress("unix:./x.sock")).toEqual({ path: "./x.sock" });
    expect(() => parseExecutorAddress("nohost")).toThrow(/not an executor address/);
    expect(() => parseExecutorAddress("h:99999")).toThrow();
  });
});

describe("RemoteExecutor", () => {
  it("runs invocations over TCP, and a dropped connection fails only the in-flight ones as executor_crashed", async () => {
    const srv = await serve({ port: 0 });
    closers.push(() => srv.stop());
    const ex = new RemoteExecutor({ address: `127.0.0.1:${srv.port}`, retryBaseMs: 20 });
    closers.push(() => ex.close());
    expect(await ex.ready()).toBe(true);
    const ok = await run(ex, `export default () => "hi"`);
    expect(ok.status).toBe("success");
    expect(bodyText(ok)).toBe("hi");

    const inflight = run(ex, `export default () => new Promise((r) => setTimeout(() => r("late"), 1000))`, {
      id: "slow",
      budgets: { wallTimeMs: 5000 },
    });
    await new Promise((r) => setTimeout(r, 200));
    for (const s of srv.sockets) s.destroy(); // the executor process "died"
    const crashed = await inflight;
    expect([crashed.status, crashed.reason]).toEqual(["error", "executor_crashed"]);
    expect(ex.stats().crashes).toBe(1);

    // The server is still listening: the client reconnects and serves again.
    const again = await run(ex, `export default () => "again"`, { id: "again" });
    expect(bodyText(again)).toBe("again");
  });

  it("answers executor_unavailable at once while nothing listens, and reconnects when the executor returns", async () => {
    const dir = mkdtempSync(join(tmpdir(), "picloud-remote-"));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "executor.sock");
    const ex = new RemoteExecutor({ address: path, retryBaseMs: 20, retryMaxMs: 100 });
    closers.push(() => ex.close());
    const down = await run(ex, `export default () => "x"`);
    expect([down.status, down.reason]).toEqual(["error", "executor_unavailable"]);
    expect(await ex.ready()).toBe(false);

    const srv = await serve({ path });
    closers.push(() => srv.stop());
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      ready = await ex.ready();
      if (!ready) await new Promise((r) => setTimeout(r, 50));
    }
    expect(ready).toBe(true);
    const ok = await run(ex, `export default () => "up"`);
    expect(bodyText(ok)).toBe("up");
  });

  it("an executor that never answers hits the per-call deadline (wall budget + grace), never a hung call", async () => {
    const sockets = new Set<Socket>();
    const mute = createServer((s) => {
      sockets.add(s);
      s.on("data", () => {}); // reads, never replies
    });
    await new Promise<void>((r) => mute.listen(0, "127.0.0.1", r));
    closers.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => mute.close(() => r()));
    });
    const addr = mute.address();
    const port = typeof addr === "object" && addr ? addr.port : 0;
    const ex = new RemoteExecutor({ address: { host: "127.0.0.1", port }, graceMs: 100 });
    closers.push(() => ex.close());
    const o = await run(ex, `export default () => "x"`, { budgets: { wallTimeMs: 200 } });
    expect([o.status, o.reason]).toEqual(["error", "executor_unavailable"]);
  });
});
