import { PiCloudError } from "@picloud/shared";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { installMethodNotAllowed, notFound, onError } from "./error-handler.ts";
import { createLogger } from "./logger.ts";
import { type AppEnv, requestContext } from "./request-context.ts";
import { systemRoutes } from "./system-routes.ts";

function app(ready = true) {
  const a = new Hono<AppEnv>();
  a.onError(onError);
  a.notFound(notFound);
  a.use("*", requestContext(createLogger({ name: "test", level: "silent" })));
  a.route(
    "/",
    systemRoutes({
      info: { service: "t", version: "1", mode: "single", nodeId: "n" },
      checks: { db: async () => ready },
      draining: () => false,
    }),
  );
  a.get("/things", (c) => c.json([]));
  a.post("/things", (c) => c.json({}, 201));
  a.get("/boom", () => {
    throw new Error("secret internals at line 42");
  });
  a.get("/teapot", () => {
    throw new PiCloudError("conflict", "already there", { details: { field: "name" } });
  });
  a.post("/json", async (c) => c.json(await c.req.json()));
  installMethodNotAllowed(a);
  return a;
}

describe("error contract", () => {
  it("404 for an unknown route", async () => {
    const res = await app().request("/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "not_found", message: "no route for GET /nope" });
  });

  it("405 with Allow for a known path and another method", async () => {
    const res = await app().request("/things", { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD, POST");
    expect((await res.json()).error).toBe("method_not_allowed");
  });

  it("500 with a request id and no stack for a bug", async () => {
    const res = await app().request("/boom", { headers: { "x-request-id": "req-123" } });
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body).toEqual({ error: "internal_server_error", message: "internal server error", requestId: "req-123" });
    expect(res.headers.get("x-request-id")).toBe("req-123");
  });

  it("a PiCloudError answers with its own status, code and details", async () => {
    const res = await app().request("/teapot");
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: "conflict", message: "already there", details: { field: "name" } });
  });

  it("400 for malformed JSON", async () => {
    const res = await app().request("/json", {
      method: "POST",
      body: "{nope",
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe("bad_request");
  });
});

describe("system routes", () => {
  it("health, info and ready", async () => {
    expect((await app().request("/health")).status).toBe(200);
    expect(await (await app().request("/info")).json()).toEqual({
      service: "t",
      version: "1",
      mode: "single",
      nodeId: "n",
    });
    expect((await app().request("/ready")).status).toBe(200);
    const notReady = await app(false).request("/ready");
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ error: "service_unavailable", checks: { db: false } });
  });
});
