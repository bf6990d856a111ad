/**
 * Script output has no authority over the platform (issue 10), proven in headless Chromium
 * (Debian's, driven by playwright-core) against the real all-in-one server: a signed-in
 * admin opens pages that scripts serve on the platform's own origin, and each page tries
 * what an attacker's would. Every test here failed against the code before the fix (see
 * docs/security.md, "Proof").
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type E2EServer, launchChromium, startServer } from "./harness.ts";

const TOKEN = "e2e-security-token-0123456789abcdef";

/** A script with an ordinary reflected-XSS bug: it echoes `?q=` into its HTML. */
const ECHO = `export default (req) => new Response(
  "<!doctype html><title>echo</title><body>" + (new URL(req.url).searchParams.get("q") ?? "") + "</body>",
  { headers: { "content-type": "text/html" } },
)`;

/** What an attacker's link injects: create a script as the admin, and read the script list. */
const XSS = `<script>(async () => {
  const out = [];
  try {
    const r = await fetch("/api/scripts", { method: "POST", credentials: "include",
      headers: { "content-type": "application/json", "x-picloud-csrf": "1" },
      body: JSON.stringify({ name: "pwned-by-xss", source: "export default () => 1" }) });
    out.push("post:" + r.status);
  } catch (e) { out.push("post:blocked"); }
  try {
    const r = await fetch("/api/scripts", { credentials: "include" });
    out.push("get:" + r.status);
  } catch (e) { out.push("get:blocked"); }
  document.title = "done " + out.join(" ");
})()</script>`;

/** Serves a service worker (asking for scope "/") and a page that registers it over the dashboard. */
const SERVICE_WORKER = `export default (req) => {
  const path = new URL(req.url).pathname;
  if (path === "/sw.js") {
    return new Response(
      "self.addEventListener('install', () => self.skipWaiting());" +
      "self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));" +
      "self.addEventListener('fetch', (e) => e.respondWith(new Response('<h1>owned by a script</h1>', { headers: { 'content-type': 'text/html' } })));",
      { headers: { "content-type": "text/javascript", "service-worker-allowed": "/" } },
    );
  }
  return new Response(\`<!doctype html><title>sw</title><script>
    (async () => {
      try {
        await navigator.serviceWorker.register("/api/execute/sw/sw.js", { scope: "/" });
        await navigator.serviceWorker.ready;
        document.title = "registered";
      } catch (e) { document.title = "refused " + e.name; }
    })();
  </script>\`, { headers: { "content-type": "text/html" } });
}`;

/** Tosses the session cookie: a Set-Cookie shadowing it under /api, and the same from JavaScript. */
const TOSS = `export default () => new Response(\`<!doctype html><title>toss</title><script>
  try { document.cookie = "picloud_session=evil-js; path=/api"; document.title = "tossed"; }
  catch (e) { document.title = "refused " + e.name; }
</script>\`, { headers: { "content-type": "text/html", "set-cookie": "picloud_session=evil; Path=/api" } })`;

/** Clears the whole site's cookies and storage. */
const CLEAR = `export default () => new Response("<!doctype html><title>clear</title>", {
  headers: { "content-type": "text/html", "clear-site-data": '"cookies", "storage"' },
})`;

describe("script output has no authority over the platform (headless Chromium)", { timeout: 60_000 }, () => {
  let server: E2EServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  async function admin(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(server.base + path, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...init.headers },
    });
  }

  /** The signed-in admin's session, as the dashboard sees it. */
  async function signedIn(): Promise<boolean> {
    await page.goto("/");
    return page.evaluate(async () => (await fetch("/api/auth/session")).status === 200);
  }

  async function sessionCookies(): Promise<string[]> {
    return (await context.cookies())
      .filter((c) => c.name.includes("picloud_session"))
      .map((c) => `${c.path} ${c.value}`);
  }

  beforeAll(async () => {
    server = await startServer(TOKEN);
    for (const [name, source] of [
      ["echo", ECHO],
      ["sw", SERVICE_WORKER],
      ["toss", TOSS],
      ["clear", CLEAR],
    ] as const) {
      const res = await admin("/api/scripts", { method: "POST", body: JSON.stringify({ name, source }) });
      if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
    }
    browser = await launchChromium();
  }, 90_000);

  // Each test is a fresh browser profile with the admin signed in through the dashboard's API.
  beforeEach(async () => {
    context = await browser.newContext({ baseURL: server.base });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const login = await page.request.post("/api/auth/login", { data: { token: TOKEN } });
    expect(login.status()).toBe(204);
    expect(await signedIn()).toBe(true);
  });
  afterEach(async () => {
    await context?.close();
  });

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  }, 30_000);

  it("a reflected XSS in a script cannot call the admin API", async () => {
    await page.goto(`/api/execute/echo?q=${encodeURIComponent(XSS)}`);
    // The injected code did run (the page is the attacker's) …
    await page.waitForFunction(() => document.title.startsWith("done"));
    const title = await page.title();
    // … but without the admin's authority: nothing created, nothing read.
    expect(title).not.toContain("post:201");
    expect(title).not.toContain("get:200");
    expect((await admin("/api/scripts/pwned-by-xss")).status).toBe(404);
    expect(await signedIn()).toBe(true);
  });

  it("a script cannot register a service worker over the dashboard", async () => {
    await page.goto("/api/execute/sw");
    await page.waitForFunction(() => document.title === "registered" || document.title.startsWith("refused"));
    expect(await page.title()).not.toBe("registered");
    // The dashboard is the dashboard, served by the platform, not by a worker.
    await page.goto("/");
    expect(await page.content()).not.toContain("owned by a script");
    expect(await page.evaluate(() => navigator.serviceWorker.controller === null)).toBe(true);
    expect(context.serviceWorkers()).toHaveLength(0);
  });

  it("a script cannot toss the session cookie (Set-Cookie or document.cookie)", async () => {
    const before = await sessionCookies();
    expect(before).toHaveLength(1);
    await page.goto("/api/execute/toss");
    await page.waitForFunction(() => document.title === "tossed" || document.title.startsWith("refused"));
    expect(await sessionCookies()).toEqual(before);
    expect(await signedIn()).toBe(true);
  });

  it("a script cannot clear the session cookie (Clear-Site-Data)", async () => {
    const before = await sessionCookies();
    await page.goto("/api/execute/clear");
    await page.waitForFunction(() => document.title === "clear");
    expect(await sessionCookies()).toEqual(before);
    expect(await signedIn()).toBe(true);
  });
});
