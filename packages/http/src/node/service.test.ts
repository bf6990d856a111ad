import { Hono } from "hono";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { startService } from "./service.ts";

const logger = pino({ level: "silent" });

describe("startService", () => {
  it("a start that fails closes what it had opened, newest first, and rethrows", async () => {
    const closed: string[] = [];
    const start = startService({
      name: "t",
      logger,
      timeoutMs: 1000,
      async start(ctx) {
        ctx.resources.add("first", 1, () => void closed.push("first"));
        await ctx.serve("http", new Hono(), { port: 0, host: "127.0.0.1" });
        ctx.resources.add("second", 2, () => void closed.push("second"));
        throw new Error("step three failed");
      },
    });
    await expect(start).rejects.toThrow("step three failed");
    expect(closed).toEqual(["second", "first"]);
  });

  it("stop: /ready's flag and the stream signal first, in-flight requests finish, then resources close", async () => {
    const order: string[] = [];
    let release: () => void = () => {};
    let arrived = false;
    const app = new Hono();
    app.get("/slow", async (c) => {
      arrived = true;
      await new Promise<void>((r) => {
        release = r;
      });
      order.push("request done");
      return c.text("ok");
    });
    const running = await startService({
      name: "t",
      logger,
      timeoutMs: 10_000,
      async start(ctx) {
        ctx.drain.signal.addEventListener("abort", () => order.push("drain signal"));
        ctx.resources.add("db", 1, () => void order.push("db closed"));
        return ctx.serve("http", app, { port: 0, host: "127.0.0.1" });
      },
    });
    const res = fetch(`${running.services.url}/slow`);
    await expect.poll(() => arrived).toBe(true);
    const stopped = running.stop();
    await new Promise((r) => setTimeout(r, 50));
    expect(running.drain.draining()).toBe(true);
    release();
    expect(await (await res).text()).toBe("ok");
    expect(await stopped).toBe(0);
    expect(order).toEqual(["drain signal", "request done", "db closed"]);
  });

  it("cuts what is left at the deadline and still closes the resources", async () => {
    const app = new Hono();
    app.get("/never", () => new Promise<Response>(() => {}));
    const closed: string[] = [];
    const running = await startService({
      name: "t",
      logger,
      timeoutMs: 200,
      async start(ctx) {
        ctx.resources.add("db", 1, () => void closed.push("db"));
        return ctx.serve("http", app, { port: 0, host: "127.0.0.1" });
      },
    });
    const hanging = fetch(`${running.services.url}/never`).catch(() => "cut");
    await new Promise((r) => setTimeout(r, 50));
    expect(await running.stop()).toBe(0);
    expect(await hanging).toBe("cut");
    expect(closed).toEqual(["db"]);
  });
});
