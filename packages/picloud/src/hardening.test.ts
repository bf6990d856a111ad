/**
 * Issue 10 against the real all-in-one server: headers, script output, the session cookie,
 * sign-in throttling, body caps, the compiler, /metrics and malformed input.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from "./test-server.ts";

/** 200,000 nested `[` (391 KB): crashes esbuild's service with a stack overflow. */
const NESTED_SOURCE = `export default () => ${"[".repeat(200_000)}${"]".repeat(200_000)};`;

const HOSTILE = `export default () => {
  const h = new Headers({ "content-type": "text/html", "service-worker-allowed": "/", "clear-site-data": '"cookies", "storage"' });
  h.append("set-cookie", "picloud_session=evil; Path=/api");
  h.append("set-cookie", "__Host-picloud_session=evil; Path=/; Secure");
  h.append("set-cookie", "=picloud_session=evil; Path=/");
  h.append("set-cookie", "PICLOUD_SESSION=evil");
  h.append("set-cookie", "theme=dark; Path=/");
  h.append("content-security-policy", "img-src 'self'");
  return new Response("<p>hi</p>", { headers: h });
}`;

/** A request with a raw Content-Length and only the first bytes of its body: resolves with the answer. */
function declaredBody(url: string, path: string, length: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { method: "POST", headers: { "content-type": "application/json", "content-length": String(length) } },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.write('{"token":"');
  });
}

describe("hardening (issue 10)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer("postgres", { PICLOUD_TRUST_PROXY: "true" });
    await s.createScript("hostile", HOSTILE);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("the platform's answers carry a strict CSP, frame-ancestors 'none', nosniff and a Referrer-Policy", async () => {
    for (const path of ["/api/scripts", "/health", "/api/nope"]) {
      const res = await s.admin(path);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(res.headers.get("referrer-policy"), path).toBe("no-referrer");
      expect(res.headers.get("x-frame-options"), path).toBe("DENY");
    }
    const page = await fetch(`${s.url}/scripts/anything`);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    if ((page.headers.get("content-type") ?? "").includes("html")) {
      // The built dashboard: SvelteKit's hash of its bootstrap script, no unsafe-inline scripts.
      expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    }
  });

  it("script answers are sandboxed and cannot set platform cookies, widen a service worker or clear the site", async () => {
    const res = await fetch(`${s.url}/api/execute/hostile`);
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("sandbox allow-scripts");
    expect(csp).not.toContain("allow-same-origin");
    // The script's own policy is kept beside the sandbox.
    expect(csp).toContain("img-src 'self'");
    expect(res.headers.getSetCookie()).toEqual(["theme=dark; Path=/"]);
    expect(res.headers.get("service-worker-allowed")).toBeNull();
    expect(res.headers.get("clear-site-data")).toBeNull();
    // Platform errors on the invocation path are sandboxed too.
    const missing = await fetch(`${s.url}/api/execute/no-such-script`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-security-policy")).toContain("sandbox");
  });

  it("the session cookie is __Host- and Secure over HTTPS, and only that name counts there", async () => {
    const https = { "x-forwarded-proto": "https", "content-type": "application/json", "x-forwarded-for": "192.0.2.50" };
    const login = await fetch(`${s.url}/api/auth/login`, {
      method: "POST",
      headers: https,
      body: JSON.stringify({ token: TEST_ADMIN_TOKEN }),
    });
    expect(login.status).toBe(204);
    const set = login.headers.get("set-cookie") ?? "";
    expect(set).toMatch(/^__Host-picloud_session=pc_sess_/);
    expect(set).toMatch(/; Secure/);
    expect(set).toMatch(/; Path=\//);
    expect(set).not.toMatch(/Domain=/i);
    const id = /=([^;]+)/.exec(set)?.[1] ?? "";
    const session = (cookie: string) => fetch(`${s.url}/api/auth/session`, { headers: { ...https, cookie } });
    expect((await session(`__Host-picloud_session=${id}`)).status).toBe(200);
    // A plain-named cookie (one a plain-HTTP answer or another host could set) is not read over HTTPS.
    expect((await session(`picloud_session=${id}`)).status).toBe(401);
  });

  it("rate-limits wrong sign-ins per address: 429 with Retry-After, even for the right token", async () => {
    const login = (token: string, address: string) =>
      fetch(`${s.url}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": address },
        body: JSON.stringify({ token }),
      });
    for (let i = 0; i < 10; i++) expect((await login(`wrong-${i}`, "203.0.113.7")).status).toBe(401);
    const limited = await login("wrong-10", "203.0.113.7");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: "too_many_requests" });
    expect((await login(TEST_ADMIN_TOKEN, "203.0.113.7")).status).toBe(429);
    // Another address is unaffected.
    expect((await login(TEST_ADMIN_TOKEN, "203.0.113.8")).status).toBe(204);
  });

  it("caps bodies before reading them: 413 in the contract, without waiting for the rest", async () => {
    // 256 MiB declared, a few bytes sent: answered at once, nothing buffered.
    const huge = await declaredBody(s.url, "/api/auth/login", 256 * 1024 * 1024);
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.body)).toMatchObject({ error: "payload_too_large", details: { maxBytes: 4096 } });
    // A chunked body is cut off as soon as it passes the cap.
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1024)));
        controller.close();
      },
    });
    const chunked = await fetch(`${s.url}/api/auth/login`, {
      method: "POST",
      body: chunks,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    const big = await s.admin("/api/scripts", {
      method: "POST",
      body: JSON.stringify({ name: "big", source: "x".repeat(3 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    const other = await s.admin("/api/auth/session", { method: "POST", body: "x".repeat(100 * 1024) });
    expect(other.status).toBe(413);
  });

  it("a source that crashes the compiler is a 400; the next save works and /ready stays truthful", async () => {
    expect(NESTED_SOURCE.length).toBeGreaterThan(390_000);
    const res = await s.admin("/api/scripts", {
      method: "POST",
      body: JSON.stringify({ name: "nested", source: NESTED_SOURCE }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "bad_request", details: { compiler: "crashed" } });
    const next = await s.createScript("after-crash", `export default () => new Response("fine")`);
    expect(next["version"]).toBe(1);
    expect(await (await fetch(`${s.url}/api/execute/after-crash`)).text()).toBe("fine");
    const ready = await fetch(`${s.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { compiler: true } });
  });

  it("a script that mentions `require` saves and runs (typeof require is undefined)", async () => {
    await s.createScript("mentions-require", `export default () => new Response(typeof require)`);
    expect(await (await fetch(`${s.url}/api/execute/mentions-require`)).text()).toBe("undefined");
  });

  it("/metrics needs the admin token", async () => {
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${s.url}/metrics`, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
    const ok = await s.admin("/metrics");
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("picloud_invocations_total");
  });

  it("malformed percent-encoding, NUL and out-of-range numbers are 400s in the contract", async () => {
    for (const path of ["/api/execute/%ZZ", "/api/execute/%E0%A4%A", "/api/execute/a%00b", "/api/scripts/a%00b"]) {
      const res = await s.admin(path);
      expect(res.status, path).toBe(400);
      expect(await res.json(), path).toMatchObject({ error: "bad_request" });
    }
    expect((await s.admin("/api/scripts/hostile/versions/2147483648")).status).toBe(400);
    const rollback = await s.admin("/api/scripts/hostile/rollback", {
      method: "POST",
      body: JSON.stringify({ version: 2147483648 }),
    });
    expect(rollback.status).toBe(400);
    for (const field of [{ description: "a\u0000b" }, { source: "export default () => 1 // \u0000" }]) {
      const res = await s.admin("/api/scripts", {
        method: "POST",
        body: JSON.stringify({ name: "nul", source: "export default () => 1", ...field }),
      });
      expect(res.status, JSON.stringify(field)).toBe(400);
    }
  });
});

describe("a separate script origin (PICLOUD_EXECUTE_ORIGIN)", () => {
  let s: TestServer;
  let scriptOrigin: string;
  beforeAll(async () => {
    const { freePort } = await import("./test-server.ts");
    const port = await freePort();
    // Two names of one loopback server: 127.0.0.1 is the platform, localhost the script origin.
    scriptOrigin = `http://localhost:${port}`;
    s = await startTestServer("postgres", { PORT: String(port), PICLOUD_EXECUTE_ORIGIN: scriptOrigin });
    await s.createScript("hostile", HOSTILE);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("serves scripts there without the sandbox, still without platform cookies", async () => {
    const res = await fetch(`${scriptOrigin}/api/execute/hostile`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toBe("img-src 'self'");
    expect(res.headers.getSetCookie()).toEqual(["theme=dark; Path=/"]);
  });

  it("the dashboard, the API and sign-in refuse to answer on the script origin", async () => {
    for (const path of ["/", "/api/scripts", "/api/auth/session", "/openapi.json", "/scripts/hostile"]) {
      const res = await fetch(`${scriptOrigin}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      expect(res.status, path).toBe(404);
    }
    const login = await fetch(`${scriptOrigin}/api/auth/login`, {
      method: "POST",
      body: JSON.stringify({ token: TEST_ADMIN_TOKEN }),
    });
    expect(login.status).toBe(404);
    expect(login.headers.get("set-cookie")).toBeNull();
  });

  it("the platform's origin serves no script page: only the dashboard's test calls, sandboxed", async () => {
    const page = await fetch(`${s.url}/api/execute/hostile`);
    expect(page.status).toBe(404);
    expect(await page.json()).toMatchObject({ details: { executeOrigin: scriptOrigin } });
    const test = await s.admin("/api/execute/hostile", {
      headers: { "x-picloud-csrf": "1", "x-picloud-trigger": "test" },
    });
    expect(test.status).toBe(200);
    expect(test.headers.get("content-security-policy")).toContain("sandbox");
    const session = await s.admin("/api/auth/session");
    expect(await session.json()).toMatchObject({ executeOrigin: scriptOrigin });
  });
});
