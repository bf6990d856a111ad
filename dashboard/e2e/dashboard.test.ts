/**
 * End-to-end: the built dashboard in headless Chromium (Debian's, or the one inside the
 * `@sparticuz/chromium` npm package; see `testChromium`), driven by playwright-core, against
 * the real all-in-one server on loopback with a real PostgreSQL database.
 * Saves a screenshot of every page to artifacts/screenshots/.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2EServer, launchChromium, repo, startServer } from "./harness.ts";

const shots = join(repo, "artifacts", "screenshots");
const TOKEN = "e2e-admin-token-0123456789abcdef";
const NAME = "e2e-hello";
const RENAMED = "e2e-greeter";
const LAPTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };

const SOURCE_V2 = `// Greets the caller.
export default async function (req: Request): Promise<Response> {
  const url = new URL(req.url);
  const name: string = url.searchParams.get("name") ?? "world";
  log.info("greeting", { name });
  console.log("v2 says hi");
  return Response.json({ hello: name, version: 2 });
}
`;

// Line 4 has the error: an unclosed call.
const SOURCE_BROKEN = `// Greets the caller.
export default async function (req: Request): Promise<Response> {
  const url = new URL(req.url);
  const name = url.searchParams.get("name" ?? "world";
  return Response.json({ hello: name });
}
`;

describe("dashboard (e2e, headless Chromium, real server and PostgreSQL)", { timeout: 60_000 }, () => {
  let server: E2EServer;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];
  /** Network errors the browser logs for answers the flow expects (401 before sign-in, 400 for a syntax error). */
  const expectedHttpErrors: { status: number; path: string }[] = [];

  /** Full-page shots from the top (so the sticky bar stays put); dialogs as the viewport shows them. */
  async function shot(name: string, fullPage = true): Promise<void> {
    if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage });
  }

  async function admin(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(base + path, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...init.headers },
    });
  }

  /** Replaces the whole editor text the way a paste would. */
  async function setEditorText(text: string): Promise<void> {
    const content = page.locator(".cm-content").first();
    await content.click();
    await page.keyboard.press("ControlOrMeta+a");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText(text);
    await expect.poll(() => editorText(), { timeout: 5000 }).toBe(text.replace(/\n$/, ""));
  }

  async function editorText(): Promise<string> {
    return page.evaluate(() =>
      Array.from(document.querySelectorAll(".cm-content .cm-line"))
        .map((l) => l.textContent ?? "")
        .join("\n")
        .replace(/\n$/, ""),
    );
  }

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    server = await startServer(TOKEN);
    base = server.base;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: LAPTOP, baseURL: base });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("console", (msg) => {
      if (msg.type() !== "error") return;
      const text = msg.text();
      const url = msg.location().url ?? "";
      const m = /status of (\d{3})/.exec(text);
      if (m) {
        const status = Number(m[1]);
        const path = url ? new URL(url).pathname : "";
        const i = expectedHttpErrors.findIndex((e) => e.status === status && path.startsWith(e.path));
        if (i >= 0) return;
      }
      consoleErrors.push(`${text} (${url})`);
    });
    page.on("pageerror", (err) => consoleErrors.push(`pageerror: ${err.message}`));
  }, 90_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  }, 30_000);

  it("signs in with the admin token (and refuses a wrong one)", async () => {
    expectedHttpErrors.push({ status: 401, path: "/api/auth/" });
    await page.goto("/");
    await page.waitForURL(/\/login/);
    await expect.poll(() => page.getByRole("heading", { name: "Sign in to PiCloud" }).isVisible()).toBe(true);
    await shot("01-sign-in");

    await page.getByLabel("Admin token").fill("not-the-token-at-all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("That token was not accepted").waitFor();

    await page.getByLabel("Admin token").fill(TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/`);
    await page.getByRole("heading", { name: "Create your first script" }).waitFor();
    expect(page.url()).not.toContain(TOKEN);
    // The session is a cookie the page cannot read.
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === "picloud_session");
    expect(session?.httpOnly).toBe(true);
    expect(await page.evaluate(() => document.cookie)).not.toContain("picloud_session");
    expectedHttpErrors.length = 0;
    await shot("02-scripts-empty");
  });

  it("creates a script from the TypeScript template and opens it", async () => {
    await page.getByRole("button", { name: "New script" }).first().click();
    const dialog = page.getByRole("dialog", { name: "New script" });
    await dialog.getByLabel("Name").fill(NAME);
    await dialog.getByText("TypeScript").click();
    await shot("03-create-script", false);
    await dialog.getByRole("button", { name: "Create script" }).click();
    await page.waitForURL(`${base}/scripts/${NAME}`);
    await page.getByRole("heading", { name: NAME }).waitFor();
    await page.locator(".cm-content").waitFor();
    expect(await editorText()).toContain("export default async function (req: Request)");
    await expect.poll(() => page.getByTestId("save-state").textContent()).toContain("v1");
    await expect.poll(() => page.getByTestId("endpoint-url").textContent()).toBe(`${base}/api/execute/${NAME}`);
    // Syntax highlighting is on: keywords are wrapped in styled spans.
    expect(await page.locator(".cm-content .cm-line span").count()).toBeGreaterThan(5);
    await shot("04-script-code");
  });

  it("edits and saves with Ctrl+S: the version bumps", async () => {
    await setEditorText(SOURCE_V2);
    await page.getByTestId("save-state").getByText("Unsaved changes").waitFor();
    await page.keyboard.press("ControlOrMeta+s");
    await page.getByTestId("save-state").getByText("Saved · v2").waitFor();
    const res = await admin(`/api/scripts/${NAME}`);
    const body = (await res.json()) as { version: number; source: string };
    expect(body.version).toBe(2);
    expect(body.source).toBe(SOURCE_V2);
  });

  it("shows a server-side syntax error at its line in the editor", async () => {
    expectedHttpErrors.push({ status: 400, path: `/api/scripts/` });
    await setEditorText(SOURCE_BROKEN);
    await page.keyboard.press("ControlOrMeta+s");
    const banner = page.getByTestId("syntax-error");
    await banner.waitFor();
    expect(await banner.textContent()).toMatch(/line 4/);
    // The reported line is highlighted in the editor and carries a lint marker in the gutter.
    const marked = page.locator(".cm-line.cm-syntax-error-line");
    await marked.waitFor();
    expect(await marked.textContent()).toContain('url.searchParams.get("name" ?? "world";');
    expect(await page.locator(".cm-lint-marker-error").count()).toBeGreaterThan(0);
    expect(await page.locator(".cm-lintRange-error").count()).toBeGreaterThan(0);
    await shot("05-syntax-error");
    expectedHttpErrors.length = 0;
    // Nothing was saved.
    const body = (await (await admin(`/api/scripts/${NAME}`)).json()) as { version: number };
    expect(body.version).toBe(2);
  });

  it("warns before leaving with unsaved changes, then discards", async () => {
    await page.getByRole("link", { name: "Scripts", exact: true }).first().click();
    const dialog = page.getByRole("dialog", { name: "Unsaved changes" });
    await dialog.waitFor();
    await shot("06-unsaved-changes", false);
    await dialog.getByRole("button", { name: "Keep editing" }).click();
    expect(page.url()).toBe(`${base}/scripts/${NAME}`);
    await page.getByRole("button", { name: "Discard" }).click();
    await page.getByTestId("save-state").getByText("Saved · v2").waitFor();
    expect(await editorText()).toBe(SOURCE_V2.replace(/\n$/, ""));
  });

  it("test-invokes the script and shows status, pretty JSON, logs and a link to the execution", async () => {
    await page.getByLabel("Query").fill("name=e2e");
    await page.getByRole("button", { name: "Send request" }).click();
    const result = page.getByTestId("test-result");
    await result.waitFor();
    await result.getByText("200").first().waitFor();
    const body = await result.getByTestId("body").textContent();
    expect(body).toBe(JSON.stringify({ hello: "e2e", version: 2 }, null, 2));
    await result.getByRole("tab", { name: /Logs/ }).click();
    await result.getByTestId("script-logs").getByText("greeting").waitFor();
    await result.getByTestId("script-logs").getByText("v2 says hi").waitFor();
    await shot("07-test-invoke");
    await result.getByRole("tab", { name: /Headers/ }).click();
    await result.getByText("x-picloud-execution-id").waitFor();
    const link = result.getByTestId("execution-link");
    const executionId = (await link.textContent())?.trim() ?? "";
    expect(executionId).toMatch(/^[0-9a-f-]{36}$/);
    await link.click();
    await page.waitForURL(/\/executions\?open=/);
    const row = page.locator(`[data-execution-id="${executionId}"]`).first();
    await row.getByTestId("execution-detail").waitFor();
    expect(await row.textContent()).toContain("test");
  });

  it("shows new executions live (SSE) and expands one", async () => {
    await page.goto(`/scripts/${NAME}/executions`);
    await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();
    await page.locator('section[aria-busy="false"] [data-execution-id]').first().waitFor();
    const before = await page.locator("[data-execution-id]").count();
    const res = await fetch(`${base}/api/execute/${NAME}/from/outside?name=live`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ping: 1 }),
    });
    expect(res.status).toBe(200);
    const id = res.headers.get("x-picloud-execution-id");
    expect(id).toBeTruthy();
    // No reload: the row is pushed over the event stream.
    const row = page.locator(`[data-execution-id="${id}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getAttribute("data-arrived")).toBe("live");
    expect(await page.locator("[data-execution-id]").count()).toBe(before + 1);
    await row.getByRole("button").first().click();
    const detail = row.getByTestId("execution-detail");
    await detail.waitFor();
    const text = (await detail.textContent()) ?? "";
    expect(text).toContain("/from/outside");
    expect(text).toContain("name=live");
    expect(text).toContain('"ping": 1');
    expect(text).toContain('"hello": "live"');
    expect(text).toContain("greeting");
    await shot("08-executions");

    // Filter by status: there are no errors.
    await page.getByLabel("Filter by status").selectOption("error");
    await page.getByText("No executions with this status").waitFor();
    await page.getByLabel("Filter by status").selectOption("");
    await page.locator(`[data-execution-id="${id}"]`).waitFor();
  });

  it("views a version, diffs it against current and rolls back", async () => {
    await page.getByRole("link", { name: "Versions" }).click();
    await page.waitForURL(/\/versions$/);
    await page.locator('[data-version="1"]').click();
    await page.getByRole("heading", { name: /Version 1/ }).waitFor();
    await page.getByRole("tab", { name: "Diff vs current" }).click();
    const diff = page.getByTestId("diff");
    await diff.waitFor();
    expect(await diff.locator("tr.add").count()).toBeGreaterThan(0);
    expect(await diff.locator("tr.del").count()).toBeGreaterThan(0);
    await shot("09-versions-diff");
    await page.getByRole("button", { name: "Restore this version" }).click();
    const dialog = page.getByRole("dialog", { name: "Restore version 1?" });
    await dialog.getByRole("button", { name: "Restore v1" }).click();
    await page.getByText("Rolled back to v1 · now v3").waitFor();
    const body = (await (await admin(`/api/scripts/${NAME}`)).json()) as { version: number; source: string };
    expect(body.version).toBe(3);
    expect(body.source).toContain("interface Greeting");
    await page.locator('[data-version="3"]').getByText("↺ v1").waitFor();
    await page.getByRole("link", { name: "Code" }).click();
    await page.getByTestId("save-state").getByText("Saved · v3").waitFor();
    expect(await editorText()).toContain("interface Greeting");
  });

  it("manages settings: curl line, env vars (write-only) and invoke keys", async () => {
    await page.getByRole("link", { name: "Settings" }).click();
    await page.waitForURL(/\/settings$/);
    expect(await page.getByTestId("curl-line").textContent()).toContain(`curl -i '${base}/api/execute/${NAME}`);
    await page.getByLabel("Variable", { exact: true }).fill("GREETING");
    await page.getByLabel("Value", { exact: true }).fill("s3cret-value");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await page.getByText("Added GREETING").waitFor();
    const s = (await (await admin(`/api/scripts/${NAME}`)).json()) as { envNames: string[] };
    expect(s.envNames).toContain("GREETING");
    expect(await page.content()).not.toContain("s3cret-value");
    await page.getByPlaceholder("Key name, e.g. github-webhook").fill("ci");
    await page.getByRole("button", { name: "Create key" }).click();
    const key = (await page.getByTestId("new-key").textContent())?.trim() ?? "";
    expect(key.length).toBeGreaterThan(10);
    await shot("10-settings");
  });

  it("looks right at phone width", async () => {
    await page.setViewportSize(PHONE);
    await page.goto(`/scripts/${NAME}`);
    await page.locator(".cm-content").waitFor();
    await shot("11-phone-script");
    await page.goto(`/scripts/${NAME}/executions`);
    await page.locator("[data-execution-id]").first().waitFor();
    await shot("12-phone-executions");
    await page.goto("/");
    await page.locator(`[data-script="${NAME}"]`).waitFor();
    await shot("13-phone-scripts");
    await page.setViewportSize(LAPTOP);
  });

  it("lists the script with its version, visibility and 24 h stats, and searches", async () => {
    await page.goto("/");
    const row = page.locator(`[data-script="${NAME}"]`);
    await row.waitFor();
    const text = (await row.textContent()) ?? "";
    const { version } = (await (await admin(`/api/scripts/${NAME}`)).json()) as { version: number };
    expect(text).toContain(`v${version}`);
    expect(text).toContain("Public");
    expect(text).toContain("Success");
    await shot("14-scripts-list");
    await page.getByLabel("Search scripts").fill("nothing-like-this");
    await page.getByText("No scripts match").waitFor();
    await page.getByLabel("Search scripts").fill("e2e");
    await row.waitFor();
  });

  it("renames the script: the endpoint moves", async () => {
    await page.goto(`/scripts/${NAME}/settings`);
    await page.getByLabel("Name", { exact: true }).fill(RENAMED);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.waitForURL(`${base}/scripts/${RENAMED}/settings`);
    await page.getByRole("heading", { name: RENAMED }).waitFor();
    expect((await admin(`/api/scripts/${NAME}`)).status).toBe(404);
    expect((await fetch(`${base}/api/execute/${RENAMED}`)).status).toBe(200);
  });

  it("deletes the script after typing its name", async () => {
    await page.getByRole("button", { name: "Delete script" }).click();
    const dialog = page.getByRole("dialog", { name: `Delete ${RENAMED}?` });
    await dialog.waitFor();
    const confirm = dialog.getByRole("button", { name: `Delete ${RENAMED}` });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel(/Type .* to confirm/).fill(NAME);
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel(/Type .* to confirm/).fill(RENAMED);
    await shot("15-delete-confirm", false);
    await confirm.click();
    await page.waitForURL(`${base}/`);
    await page.getByRole("heading", { name: "Create your first script" }).waitFor();
    expect((await admin(`/api/scripts/${RENAMED}`)).status).toBe(404);
  });

  it("signs out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/login/);
    expect((await context.cookies()).find((c) => c.name === "picloud_session")).toBeUndefined();
  });

  it("logged no console errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});
