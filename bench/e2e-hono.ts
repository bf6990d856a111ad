/**
 * The bare baseline of the end-to-end benchmark: one Hono route on @hono/node-server (the
 * same server PiCloud runs on, with the same timeouts) doing the hello-world script's work
 * in-process: read the body, answer a small JSON. Run by bench/e2e.ts as
 *   node bench/e2e-hono.ts <port>
 */
import { createRequire } from "node:module";
import { listen } from "../packages/http/src/node/listen.ts";

// hono is a dependency of @picloud/http, not of the workspace root: resolve it from there.
const require = createRequire(new URL("../packages/http/package.json", import.meta.url));
type Ctx = { req: { text(): Promise<string> }; json(v: unknown): Response };
type HonoApp = {
  all(path: string, h: (c: Ctx) => Promise<Response>): void;
  fetch: (req: Request) => Promise<Response>;
};
const { Hono } = (await import(require.resolve("hono"))) as { Hono: new () => HonoApp };

const app = new Hono();
app.all("*", async (c) => {
  const body = await c.req.text();
  return c.json({ hello: "world", received: body.length });
});
const port = Number(process.argv[2] ?? 8788);
const l = await listen(app, { port, host: "127.0.0.1" });
process.stderr.write(`hono listening on ${l.url}\n`);
