import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestServer, TEST_ADMIN_TOKEN, type TestServer } from "./test-server.ts";

const SECRET = "s3cr3t-value-never-logged";

describe("admin auth, private scripts, env secrets", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer("postgres");
    await s.createScript(
      "env-reader",
      `export default (req) => { console.log("using", env.API_KEY); return { key: env.API_KEY, ua: req.headers.get("authorization") }; }`,
      {
        env: { API_KEY: SECRET },
      },
    );
    await s.createScript("private-one", `export default () => "private ok"`, { visibility: "private" });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("every admin route needs the token (401 in the error contract)", async () => {
    const routes: [string, string][] = [
      ["GET", "/api/scripts"],
      ["POST", "/api/scripts"],
      ["GET", "/api/scripts/env-reader"],
      ["PUT", "/api/scripts/env-reader"],
      ["DELETE", "/api/scripts/env-reader"],
      ["GET", "/api/scripts/env-reader/versions"],
      ["GET", "/api/scripts/env-reader/versions/1"],
      ["POST", "/api/scripts/env-reader/rollback"],
      ["GET", "/api/scripts/env-reader/keys"],
      ["POST", "/api/scripts/env-reader/keys"],
      ["DELETE", "/api/scripts/env-reader/keys/00000000-0000-7000-8000-000000000000"],
      ["GET", "/api/scripts/env-reader/logs"],
      ["GET", "/api/scripts/env-reader/logs/stream"],
      ["GET", "/api/executions/00000000-0000-7000-8000-000000000000"],
    ];
    for (const [method, path] of routes) {
      for (const headers of [{}, { authorization: "Bearer wrong-token-wrong-token" }] as Record<string, string>[]) {
        const res = await fetch(s.url + path, { method, headers });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(await res.json()).toMatchObject({ error: "unauthorized" });
      }
    }
    expect((await s.admin("/api/scripts")).status).toBe(200);
  });

  it("dashboard session: login sets an HttpOnly cookie; cookie writes need the CSRF header", async () => {
    const bad = await fetch(`${s.url}/api/auth/login`, { method: "POST", body: JSON.stringify({ token: "nope" }) });
    expect(bad.status).toBe(401);
    const login = await fetch(`${s.url}/api/auth/login`, {
      method: "POST",
      body: JSON.stringify({ token: TEST_ADMIN_TOKEN }),
      headers: { "content-type": "application/json" },
    });
    expect(login.status).toBe(204);
    const setCookie = login.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/picloud_session=pc_sess_/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    const cookie = setCookie.split(";")[0] ?? "";
    expect((await fetch(`${s.url}/api/scripts`, { headers: { cookie } })).status).toBe(200);
    const noCsrf = await fetch(`${s.url}/api/scripts`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({ name: "via-cookie", source: "export default () => 1" }),
    });
    expect(noCsrf.status).toBe(403);
    const withCsrf = await fetch(`${s.url}/api/scripts`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json", "x-picloud-csrf": "1" },
      body: JSON.stringify({ name: "via-cookie", source: "export default () => 1" }),
    });
    expect(withCsrf.status).toBe(201);
    expect((await fetch(`${s.url}/api/auth/logout`, { method: "POST", headers: { cookie } })).status).toBe(204);
    expect((await fetch(`${s.url}/api/scripts`, { headers: { cookie } })).status).toBe(401);
  });

  it("private scripts need a live invoke key (Bearer or ?key=)", async () => {
    expect((await fetch(`${s.url}/api/execute/private-one`)).status).toBe(401);
    const created = await (
      await s.admin("/api/scripts/private-one/keys", { method: "POST", body: JSON.stringify({ name: "ci" }) })
    ).json();
    expect(created.key).toMatch(/^pc_key_/);
    const listed = await (await s.admin("/api/scripts/private-one/keys")).json();
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0].key).toBeUndefined();
    const viaHeader = await fetch(`${s.url}/api/execute/private-one`, {
      headers: { authorization: `Bearer ${created.key}` },
    });
    expect(viaHeader.status).toBe(200);
    expect(await viaHeader.text()).toBe("private ok");
    expect((await fetch(`${s.url}/api/execute/private-one?key=${created.key}`)).status).toBe(200);
    // The admin may invoke it too (dashboard test runs).
    expect((await s.admin("/api/execute/private-one")).status).toBe(200);
    expect((await s.admin(`/api/scripts/private-one/keys/${created.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await fetch(`${s.url}/api/execute/private-one?key=${created.key}`)).status).toBe(401);
  });

  it("env values are write-only, encrypted at rest, and redacted from execution logs", async () => {
    const view = await (await s.admin("/api/scripts/env-reader")).json();
    expect(view.envNames).toEqual(["API_KEY"]);
    expect(JSON.stringify(view)).not.toContain(SECRET);

    const res = await fetch(`${s.url}/api/execute/env-reader`, {
      headers: { authorization: "Bearer caller-secret-token", cookie: "sid=abc" },
    });
    expect(await res.json()).toEqual({ key: SECRET, ua: "Bearer caller-secret-token" });

    const sql = postgres(s.db!.url, { max: 1 });
    try {
      const [row] = await sql`select env::text as env from scripts where name = 'env-reader'`;
      expect(row?.["env"]).toContain("API_KEY");
      expect(row?.["env"]).not.toContain(SECRET);
      const page = await eventually(async () => {
        const rows = await sql`select * from execution_logs where script_name = 'env-reader'`;
        return rows.length > 0 ? rows : undefined;
      });
      const stored = JSON.stringify(page[0]);
      expect(stored).not.toContain(SECRET);
      expect(stored).not.toContain("caller-secret-token");
      expect(stored).not.toContain("sid=abc");
      expect(stored).not.toContain(TEST_ADMIN_TOKEN);
      expect(stored).toContain("[redacted]");
    } finally {
      await sql.end();
    }
  });

  it("update replaces env names; null removes one", async () => {
    const res = await s.admin("/api/scripts/env-reader", {
      method: "PUT",
      body: JSON.stringify({ env: { API_KEY: null, OTHER: "x1234" } }),
    });
    expect((await res.json()).envNames).toEqual(["OTHER"]);
  });
});

describe("platform credentials never reach a script", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer("postgres");
    await s.createScript(
      "peek",
      `export default (req) => ({ auth: req.headers.get("authorization"), cookie: req.headers.get("cookie") })`,
      { visibility: "private" },
    );
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("the admin token and the session cookie are removed; other cookies stay", async () => {
    const viaToken = await (await s.admin("/api/execute/peek", { headers: { cookie: "theme=dark" } })).json();
    expect(viaToken).toEqual({ auth: null, cookie: "theme=dark" });
    const login = await fetch(`${s.url}/api/auth/login`, {
      method: "POST",
      body: JSON.stringify({ token: TEST_ADMIN_TOKEN }),
      headers: { "content-type": "application/json" },
    });
    const session = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const viaSession = await (
      await fetch(`${s.url}/api/execute/peek`, { headers: { cookie: `a=1; ${session}; b=2` } })
    ).json();
    expect(viaSession).toEqual({ auth: null, cookie: "a=1; b=2" });
  });
});
