import { connect, type Socket } from "node:net";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { type Listening, listen, openFileLimit } from "./listen.ts";

const app = new Hono();
app.get("/health", (c) => c.json({ status: "ok" }));
app.post("/echo", async (c) => c.text(await c.req.text()));
// A body cut short by the server's own timeout ends here, quietly.
app.onError((_e, c) => c.text("aborted", 500));

const servers: Listening[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const l of servers.splice(0)) {
    l.server.closeAllConnections();
    await new Promise<void>((r) => l.server.close(() => r()));
  }
});

async function start(limits: Parameters<typeof listen>[1]["limits"]): Promise<Listening> {
  const l = await listen(app, { port: 0, host: "127.0.0.1", limits });
  servers.push(l);
  return l;
}

/** Opens a connection that sends the first bytes of a request and then nothing. */
function slowClient(port: number, first = "GET /health HTTP/1.1\r\nHost: x\r\n"): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => {
      s.write(first);
      resolve(s);
    });
    s.on("error", () => {});
    s.once("error", reject);
    sockets.push(s);
  });
}

/** Resolves with what the server sent once it closed the connection. */
function closed(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    s.on("data", (d) => (got += d.toString()));
    s.once("close", () => resolve(got));
  });
}

describe("connection limits (@picloud/http/node)", () => {
  it("stays responsive while a few thousand slow clients hold connections", async () => {
    // Each slow client costs two descriptors here (both ends live in this process).
    const fds = openFileLimit() ?? 4096;
    const n = Math.min(2000, Math.floor((fds - 512) / 2));
    const l = await start({ headersTimeoutMs: 60_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000 });
    const opened = performance.now();
    for (let i = 0; i < n; i += 250) {
      await Promise.all(Array.from({ length: Math.min(250, n - i) }, () => slowClient(l.port)));
    }
    const openMs = performance.now() - opened;
    const t0 = performance.now();
    const res = await fetch(`${l.url}/health`, { signal: AbortSignal.timeout(5000) });
    const ms = performance.now() - t0;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    // A figure for the closing note, not an assertion on time.
    console.log(
      `[connections] ${n} slow clients open (${openMs.toFixed(0)} ms); a new client answered in ${ms.toFixed(1)} ms`,
    );
    expect(l.server.listenerCount("request")).toBeGreaterThan(0);
  }, 60_000);

  it("closes connections past the cap at accept, and takes new ones once below it", async () => {
    const l = await start({
      maxConnections: 20,
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 5_000,
    });
    const held = await Promise.all(Array.from({ length: 20 }, () => slowClient(l.port)));
    // Wait until the server counts them all.
    await expect
      .poll(() => new Promise<number>((r) => l.server.getConnections((_e, c) => r(c))), { timeout: 5000 })
      .toBe(20);
    const over = await slowClient(l.port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(await closed(over)).toBe("");
    for (const s of held) s.destroy();
    await expect
      .poll(
        async () => (await fetch(`${l.url}/health`, { signal: AbortSignal.timeout(2000) }).catch(() => null))?.status,
        {
          timeout: 5000,
        },
      )
      .toBe(200);
  });

  it("answers 408 and closes a client that is slow to send its headers", async () => {
    const l = await start({ headersTimeoutMs: 300, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000 });
    const s = await slowClient(l.port);
    const got = await closed(s);
    expect(got).toMatch(/^HTTP\/1\.1 408/);
  });

  it("answers 408 and closes a client that is slow to send its body", async () => {
    const l = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 5_000 });
    const s = await slowClient(l.port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
    const t0 = performance.now();
    const got = await closed(s);
    expect(got).toMatch(/^HTTP\/1\.1 408/);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });
});
