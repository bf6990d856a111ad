/**
 * The generated /openapi.json against what the server really answers (issue 12): every
 * documented operation is called for a success and for errors, and every answer must be
 * documented (route, status, media type) and match its schema exactly (objects closed, so
 * a field the document does not name fails too); error bodies must carry a code of their
 * status. A drift between the shared zod contracts, the routes and the document fails here.
 */
import { OpenApiConformance, type OpenApiDocument } from "@picloud/testing/openapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from "./test-server.ts";

type Auth = "admin" | "none" | "wrong" | "cookie" | "cookie+csrf";

describe("OpenAPI document vs real answers", () => {
  let s: TestServer;
  let check: OpenApiConformance;
  let cookie = "";
  const problems: string[] = [];

  beforeAll(async () => {
    s = await startTestServer("postgres");
    check = new OpenApiConformance((await (await fetch(`${s.url}/openapi.json`)).json()) as OpenApiDocument);
  });
  afterAll(async () => {
    await s?.stop();
  });

  /** Sends a request, checks its answer against the document, and returns status, headers and JSON body. */
  async function call(
    method: string,
    path: string,
    o: { auth?: Auth; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; headers: Headers; json: unknown }> {
    const headers: Record<string, string> = { ...o.headers };
    const auth = o.auth ?? "admin";
    if (auth === "admin") headers["authorization"] = `Bearer ${TEST_ADMIN_TOKEN}`;
    if (auth === "wrong") headers["authorization"] = "Bearer wrong-token-wrong-token";
    if (auth.startsWith("cookie")) headers["cookie"] = cookie;
    if (auth === "cookie+csrf") headers["x-picloud-csrf"] = "1";
    const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    if (body !== undefined) headers["content-type"] ??= "application/json";
    const url = s.url + path;
    const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
    const { text, problems: found } = await check.read(method, url, res);
    problems.push(...found);
    const json: unknown = (res.headers.get("content-type") ?? "").includes("json") ? JSON.parse(text) : null;
    return { status: res.status, headers: res.headers, json };
  }

  /** Calls and expects a status (named in the failure with the body). */
  async function expectStatus(status: number, method: string, path: string, o: Parameters<typeof call>[2] = {}) {
    const r = await call(method, path, o);
    expect(r.status, `${method} ${path}: ${JSON.stringify(r.json)?.slice(0, 300)}`).toBe(status);
    return r;
  }

  it("system routes", async () => {
    await expectStatus(200, "GET", "/health");
    await expectStatus(400, "GET", "/health?x=%ZZ");
    await expectStatus(200, "GET", "/ready");
    await expectStatus(400, "GET", "/ready?x=%00");
    await expectStatus(200, "GET", "/info");
    await expectStatus(400, "GET", "/info?x=%E0%A4%A");
    await expectStatus(200, "GET", "/metrics");
    await expectStatus(401, "GET", "/metrics", { auth: "none" });
    await expectStatus(200, "GET", "/openapi.json");
    await expectStatus(400, "GET", "/openapi.json?x=%ZZ");
  });

  it("sign-in, session, sign-out", async () => {
    await expectStatus(401, "POST", "/api/auth/login", { auth: "none", body: { token: "not-the-admin-token" } });
    await expectStatus(400, "POST", "/api/auth/login", { auth: "none", body: { nope: 1 } });
    await expectStatus(413, "POST", "/api/auth/login", { auth: "none", body: { token: "x".repeat(8 * 1024) } });
    const login = await expectStatus(204, "POST", "/api/auth/login", {
      auth: "none",
      body: { token: TEST_ADMIN_TOKEN },
    });
    cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect(cookie).toMatch(/^picloud_session=pc_sess_/);
    await expectStatus(200, "GET", "/api/auth/session", { auth: "cookie" });
    await expectStatus(200, "GET", "/api/auth/session", { auth: "admin" });
    await expectStatus(401, "GET", "/api/auth/session", { auth: "none" });
    await expectStatus(400, "GET", "/api/auth/session?x=%ZZ", { auth: "none" });
    await expectStatus(413, "POST", "/api/auth/logout", { auth: "none", raw: "x".repeat(8 * 1024) });
    await expectStatus(204, "POST", "/api/auth/logout", { auth: "none" });
  });

  it("scripts, versions, rollback and invoke keys", async () => {
    const create = { name: "tour", source: `export default () => "v1"` };
    await expectStatus(201, "POST", "/api/scripts", { body: create });
    await expectStatus(201, "POST", "/api/scripts", { body: { name: "tour-b", source: `export default () => 1` } });
    await expectStatus(409, "POST", "/api/scripts", { body: create });
    await expectStatus(400, "POST", "/api/scripts", { body: { name: "Not A Slug", source: "x" } });
    await expectStatus(400, "POST", "/api/scripts", { body: { name: "broken", source: "export default (" } });
    await expectStatus(401, "POST", "/api/scripts", { auth: "none", body: create });
    await expectStatus(403, "POST", "/api/scripts", { auth: "cookie", body: { ...create, name: "by-cookie" } });
    await expectStatus(201, "POST", "/api/scripts", { auth: "cookie+csrf", body: { ...create, name: "by-cookie" } });
    await expectStatus(413, "POST", "/api/scripts", {
      raw: JSON.stringify({ ...create, source: "x".repeat(3 << 20) }),
    });

    await expectStatus(200, "GET", "/api/scripts");
    await expectStatus(200, "GET", "/api/scripts?limit=1");
    await expectStatus(400, "GET", "/api/scripts?limit=-1");
    await expectStatus(401, "GET", "/api/scripts", { auth: "wrong" });

    await expectStatus(200, "GET", "/api/scripts/tour");
    await expectStatus(404, "GET", "/api/scripts/nope");
    await expectStatus(200, "PUT", "/api/scripts/tour", { body: { source: `export default () => "v2"` } });
    await expectStatus(409, "PUT", "/api/scripts/tour", { body: { name: "tour-b" } });
    await expectStatus(404, "PUT", "/api/scripts/nope", { body: { description: "x" } });
    await expectStatus(400, "PUT", "/api/scripts/tour", { body: { limits: { memoryMb: 1e9 } } });

    await expectStatus(200, "GET", "/api/scripts/tour/versions");
    await expectStatus(404, "GET", "/api/scripts/nope/versions");
    await expectStatus(200, "GET", "/api/scripts/tour/versions/1");
    await expectStatus(404, "GET", "/api/scripts/tour/versions/99");
    await expectStatus(400, "GET", "/api/scripts/tour/versions/x");
    await expectStatus(200, "POST", "/api/scripts/tour/rollback", { body: { version: 1 } });
    await expectStatus(404, "POST", "/api/scripts/tour/rollback", { body: { version: 99 } });

    await expectStatus(200, "GET", "/api/scripts/tour/keys");
    await expectStatus(404, "GET", "/api/scripts/nope/keys");
    const key = await expectStatus(201, "POST", "/api/scripts/tour/keys", { body: { name: "ci" } });
    await expectStatus(400, "POST", "/api/scripts/tour/keys", { body: { name: "" } });
    const keyId = (key.json as { id: string }).id;
    await expectStatus(204, "DELETE", `/api/scripts/tour/keys/${keyId}`);
    await expectStatus(404, "DELETE", `/api/scripts/tour/keys/${keyId}`);

    await expectStatus(204, "DELETE", "/api/scripts/tour-b");
    await expectStatus(404, "DELETE", "/api/scripts/tour-b");
  });

  it("invocation, logs, one execution, the live stream", async () => {
    await s.createScript("inv-ok", `export default (req) => Response.json({ method: req.method })`);
    await s.createScript("inv-private", `export default () => "secret"`, { visibility: "private" });
    await s.createScript("inv-throws", `export default () => { throw new Error("boom"); }`);
    await s.createScript("inv-slow", `export default () => { for (;;) {} }`, { limits: { cpuTimeMs: 50 } });
    await s.createScript("inv-big", `export default () => "x".repeat(4096)`, { limits: { maxResponseBytes: 1024 } });
    await s.createScript("inv-small", `export default (req) => req.text()`, { limits: { maxRequestBytes: 16 } });
    let executionId = "";
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
      const ok = await expectStatus(200, method, "/api/execute/inv-ok", { auth: "none" });
      executionId ||= ok.headers.get("x-picloud-execution-id") ?? "";
      await expectStatus(404, method, "/api/execute/no-such-script", { auth: "none" });
    }
    await expectStatus(400, "GET", "/api/execute/%ZZ", { auth: "none" });
    await expectStatus(401, "GET", "/api/execute/inv-private", { auth: "none" });
    await expectStatus(200, "GET", "/api/execute/inv-private", { auth: "admin" });
    await expectStatus(500, "GET", "/api/execute/inv-throws", { auth: "none" });
    await expectStatus(504, "GET", "/api/execute/inv-slow", { auth: "none" });
    await expectStatus(503, "GET", "/api/execute/inv-big", { auth: "none" });
    await expectStatus(413, "POST", "/api/execute/inv-small", { auth: "none", raw: "x".repeat(64) });
    await s.running.services.sink.flush();

    const list = await expectStatus(200, "GET", "/api/scripts/inv-ok/logs?limit=2");
    const next = (list.json as { nextCursor: string | null }).nextCursor;
    expect(next).not.toBeNull();
    await expectStatus(200, "GET", `/api/scripts/inv-ok/logs?cursor=${next}`);
    await expectStatus(200, "GET", "/api/scripts/inv-throws/logs?status=error");
    await expectStatus(400, "GET", "/api/scripts/inv-ok/logs?status=bogus");
    await expectStatus(400, "GET", "/api/scripts/inv-ok/logs?cursor=not-a-cursor");
    await expectStatus(404, "GET", "/api/scripts/nope/logs");

    expect(executionId).not.toBe("");
    await expectStatus(200, "GET", `/api/executions/${executionId}`);
    for (const name of ["inv-throws", "inv-slow", "inv-big"]) {
      const page = await expectStatus(200, "GET", `/api/scripts/${name}/logs`);
      const id = (page.json as { items: { id: string }[] }).items[0]?.id;
      await expectStatus(200, "GET", `/api/executions/${id}`);
    }
    await expectStatus(404, "GET", "/api/executions/00000000-0000-7000-8000-000000000000");
    await expectStatus(400, "GET", "/api/executions/not-a-uuid");

    await expectStatus(200, "GET", "/api/scripts/inv-ok/logs/stream");
    await expectStatus(404, "GET", "/api/scripts/nope/logs/stream");
    await expectStatus(401, "GET", "/api/scripts/inv-ok/logs/stream", { auth: "none" });
  });

  it("every answer matched the document, and every operation was seen succeeding and failing", () => {
    expect(problems).toEqual([]);
    const missing = check.operations().filter((op) => {
      const statuses = [...(check.seen.get(op) ?? [])];
      return !statuses.some((st) => st < 300) || !statuses.some((st) => st >= 400);
    });
    expect(missing).toEqual([]);
  });
});
