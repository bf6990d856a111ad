import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { serveStatic } from "@hono/node-server/serve-static";
import type { AppEnv } from "@picloud/http";
import type { Hono } from "hono";

/** The built dashboard, default `<repo>/dashboard/build`. */
export const DEFAULT_DASHBOARD_DIR = new URL("../../../dashboard/build", import.meta.url).pathname;

/**
 * The policy of the dashboard's HTML: the one SvelteKit wrote into index.html at build time
 * (its inline bootstrap script hashed into `script-src`), sent as a header too, with what a
 * <meta> policy cannot carry: `frame-ancestors 'none'` (docs/security.md, "Headers").
 */
export function dashboardCsp(html: string): string {
  const meta = /<meta http-equiv="content-security-policy" content="([^"]+)"/i.exec(html)?.[1];
  const base = meta ?? "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'";
  return `${base.replace(/&#39;/g, "'").replace(/&quot;/g, '"')}; frame-ancestors 'none'`;
}

/**
 * Serves the dashboard SPA at `/`: files as they are, and `index.html` for any other GET
 * outside the API so that client-side routes survive a reload.
 */
export function mountDashboard(app: Hono<AppEnv>, dir: string): void {
  const index = join(dir, "index.html");
  if (!existsSync(index)) {
    app.get("/", (c) =>
      c.json({
        name: "PiCloud",
        message: "the dashboard is not built: run `pnpm run build:dashboard`; the API is under /api",
      }),
    );
    return;
  }
  const html = readFileSync(index, "utf8");
  const csp = dashboardCsp(html);
  app.use("/*", async (c, next) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return next();
    const p = c.req.path;
    if (p.startsWith("/api/") || ["/health", "/ready", "/info", "/metrics", "/openapi.json"].includes(p)) return next();
    c.header("content-security-policy", csp);
    return serveStatic({ root: dir })(c, async () => {
      // Immutable hashed assets are cached; everything else falls back to the SPA shell.
      if (p.startsWith("/_app/")) return next();
      c.res = c.html(html);
    });
  });
}
