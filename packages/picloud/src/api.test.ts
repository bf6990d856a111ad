import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestServer, type TestServer } from "./test-server.ts";

const ECHO = `
export default async function (req: Request): Promise<Response> {
  const body = new Uint8Array(await req.arrayBuffer());
  const url = new URL(req.url);
  return new Response(body, {
    status: 201,
    headers: {
      "content-type": req.headers.get("content-type") ?? "application/octet-stream",
      "x-echo-method": req.method,
      "x-echo-path": url.pathname + url.search,
      "x-echo-custom": req.headers.get("X-Custom") ?? "",
    },
  });
}`;

const HELLO = `export default (req) => Response.json({ hello: new URL(req.url).searchParams.get("name") ?? "world" });`;

// The same suite on PostgreSQL and on the embedded PGlite.
describe.each(["postgres", "pglite"] as const)("API on %s", (driver) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(driver);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("system endpoints answer", async () => {
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
    const ready = await fetch(`${s.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { database: true, executor: true } });
    expect(await (await fetch(`${s.url}/info`)).json()).toMatchObject({
      service: "picloud",
      mode: "single",
      nodeId: "test-node",
    });
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/scripts",
        "/api/scripts/{id}",
        "/api/scripts/{id}/logs",
        "/api/execute/{id}",
        "/ready",
      ]),
    );
  });

  it("script CRUD with versions and rollback", async () => {
    const created = await s.createScript("crud-one", HELLO, { description: "first" });
    expect(created).toMatchObject({
      name: "crud-one",
      version: 1,
      visibility: "public",
      endpoint: "/api/execute/crud-one",
    });
    const byName = await (await s.admin("/api/scripts/crud-one")).json();
    const byId = await (await s.admin(`/api/scripts/${created["id"]}`)).json();
    expect(byName).toEqual(byId);
    expect(byName.source).toBe(HELLO);

    const upd = await s.admin("/api/scripts/crud-one", {
      method: "PUT",
      body: JSON.stringify({ source: `export default () => "v2";` }),
    });
    expect(upd.status).toBe(200);
    expect((await upd.json()).version).toBe(2);
    expect(await (await fetch(`${s.url}/api/execute/crud-one`)).text()).toBe("v2");

    const versions = await (await s.admin("/api/scripts/crud-one/versions")).json();
    expect(versions.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const v1 = await (await s.admin("/api/scripts/crud-one/versions/1")).json();
    expect(v1.source).toBe(HELLO);

    const rb = await s.admin("/api/scripts/crud-one/rollback", {
      method: "POST",
      body: JSON.stringify({ version: 1 }),
    });
    expect(rb.status).toBe(200);
    expect(await rb.json()).toMatchObject({ version: 3, source: HELLO });
    expect(await (await fetch(`${s.url}/api/execute/crud-one?name=back`)).json()).toEqual({ hello: "back" });
    const after = await (await s.admin("/api/scripts/crud-one/versions")).json();
    expect(after.items[0]).toMatchObject({ version: 3, rolledBackFrom: 1 });

    const list = await (await s.admin("/api/scripts?search=crud")).json();
    expect(list.items.map((i: { name: string }) => i.name)).toContain("crud-one");
    expect(list.items[0].stats).toMatchObject({ runs24h: expect.any(Number) });

    expect((await s.admin("/api/scripts/crud-one", { method: "DELETE" })).status).toBe(204);
    expect((await s.admin("/api/scripts/crud-one")).status).toBe(404);
    const gone = await fetch(`${s.url}/api/execute/crud-one`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: "not_found" });
  });

  it("duplicate names are 409 naming the conflict; bad names are 400", async () => {
    await s.createScript("dup", HELLO);
    const res = await s.admin("/api/scripts", { method: "POST", body: JSON.stringify({ name: "dup", source: HELLO }) });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: "conflict", message: expect.stringContaining('"dup"') });
    const bad = await s.admin("/api/scripts", {
      method: "POST",
      body: JSON.stringify({ name: "Bad Name!", source: HELLO }),
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toBe("bad_request");
  });

  it("invalid source is rejected on create and update with line and column", async () => {
    const res = await s.admin("/api/scripts", {
      method: "POST",
      body: JSON.stringify({ name: "broken", source: "export default () => {\n  return 1 +;\n}" }),
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toBe("bad_request");
    expect(body.details).toMatchObject({ line: 2 });
    expect(body.message).toMatch(/line 2/);
    expect((await s.admin("/api/scripts/broken")).status).toBe(404);

    await s.createScript("fixable", HELLO);
    const upd = await s.admin("/api/scripts/fixable", { method: "PUT", body: JSON.stringify({ source: "let x = ;" }) });
    expect(upd.status).toBe(400);
    expect((await upd.json()).details).toMatchObject({ line: 1 });
    expect((await (await s.admin("/api/scripts/fixable")).json()).version).toBe(1);
  });

  it("execute echoes JSON and binary bodies, method, path, query, headers and status", async () => {
    await s.createScript("echo", ECHO);
    const json = JSON.stringify({ a: 1, emoji: "☁️" });
    const r1 = await fetch(`${s.url}/api/execute/echo/some/path?x=1&y=two`, {
      method: "POST",
      body: json,
      headers: { "content-type": "application/json", "x-custom": "yes" },
    });
    expect(r1.status).toBe(201);
    expect(await r1.text()).toBe(json);
    expect(r1.headers.get("x-echo-method")).toBe("POST");
    expect(r1.headers.get("x-echo-path")).toBe("/some/path?x=1&y=two");
    expect(r1.headers.get("x-echo-custom")).toBe("yes");
    expect(r1.headers.get("x-picloud-execution-id")).toMatch(/^[0-9a-f-]{36}$/);

    const bytes = new Uint8Array(256 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff;
    const r2 = await fetch(`${s.url}/api/execute/echo`, {
      method: "PUT",
      body: bytes,
      headers: { "content-type": "application/octet-stream" },
    });
    expect(r2.status).toBe(201);
    expect(new Uint8Array(await r2.arrayBuffer())).toEqual(bytes);
  });

  it("missing scripts are 404 and oversized bodies 413, with an execution id", async () => {
    const res = await fetch(`${s.url}/api/execute/does-not-exist`);
    expect(res.status).toBe(404);
    expect(res.headers.get("x-picloud-execution-id")).toBeTruthy();
    await s.createScript("small", HELLO, { limits: { maxRequestBytes: 1024 } });
    const big = await fetch(`${s.url}/api/execute/small`, { method: "POST", body: "x".repeat(2048) });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: "payload_too_large" });
  });

  it("limits above the ceilings are refused", async () => {
    const res = await s.admin("/api/scripts", {
      method: "POST",
      body: JSON.stringify({ name: "greedy", source: HELLO, limits: { memoryMb: 100_000 } }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "bad_request", details: { fields: ["memoryMb"] } });
  });

  it("error, timeout and budget_exceeded land in the logs with their status", async () => {
    await s.createScript("thrower", `export default () => { throw new TypeError("nope"); }`);
    await s.createScript("sleeper", `export default () => new Promise(() => {})`, { limits: { wallTimeMs: 300 } });
    await s.createScript("spinner", `export default () => { for (;;) {} }`, {
      limits: { cpuTimeMs: 100, wallTimeMs: 2000 },
    });
    await s.createScript(
      "hog",
      `export default () => { const a = []; for (;;) a.push(new Array(100000).fill(Math.random())); }`,
      { limits: { memoryMb: 16, cpuTimeMs: 5000, wallTimeMs: 10000 } },
    );
    await s.createScript("fine", HELLO);

    const t = await fetch(`${s.url}/api/execute/thrower`);
    expect(t.status).toBe(500);
    expect(await t.json()).toMatchObject({
      error: "script_error",
      message: expect.stringContaining("TypeError: nope"),
    });
    const sl = await fetch(`${s.url}/api/execute/sleeper`);
    expect(sl.status).toBe(504);
    expect(await sl.json()).toMatchObject({ error: "timeout", details: { reason: "wall_time" } });
    const sp = await fetch(`${s.url}/api/execute/spinner`);
    expect(sp.status).toBe(504);
    expect(await sp.json()).toMatchObject({ error: "timeout", details: { reason: "cpu_time" } });
    const h = await fetch(`${s.url}/api/execute/hog`);
    expect(h.status).toBe(503);
    expect(await h.json()).toMatchObject({ error: "budget_exceeded", details: { reason: "heap" } });
    expect((await fetch(`${s.url}/api/execute/fine`)).status).toBe(200);

    const expectLogged = async (name: string, status: string, reason: string) => {
      const page = await eventually(async () => {
        const p = await (await s.admin(`/api/scripts/${name}/logs`)).json();
        return p.items.length > 0 ? p : undefined;
      });
      expect(page.items[0]).toMatchObject({ scriptName: name, status, reason });
      const full = await (await s.admin(`/api/executions/${page.items[0].id}`)).json();
      expect(full).toMatchObject({ id: page.items[0].id, status, nodeId: "test-node" });
      return full;
    };
    const err = await expectLogged("thrower", "error", "script_threw");
    expect(err.error).toMatchObject({ name: "TypeError", message: "nope" });
    await expectLogged("sleeper", "timeout", "wall_time");
    await expectLogged("spinner", "timeout", "cpu_time");
    await expectLogged("hog", "budget_exceeded", "heap");
    await expectLogged("fine", "success", "ok");
  });
});
