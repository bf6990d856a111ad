import { Hono } from "hono";
import type { Metrics } from "./metrics.ts";
import type { AppEnv } from "./request-context.ts";

export interface SystemInfo {
  service: string;
  version: string;
  mode: "single" | "cluster";
  nodeId: string;
}

export interface SystemRoutesOptions {
  info: SystemInfo;
  /** Named readiness checks; /ready is 200 only when all pass. */
  checks: Record<string, () => Promise<boolean>>;
  /** Set to true while shutting down: /ready answers 503 at once. */
  draining: () => boolean;
  metrics?: Metrics;
}

/** GET /health, /ready, /info and /metrics (DESIGN §4). */
export function systemRoutes(opts: SystemRoutesOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const started = Date.now();
  app.get("/health", (c) => c.json({ status: "ok", uptimeS: Math.round((Date.now() - started) / 1000) }));
  app.get("/ready", async (c) => {
    if (opts.draining()) {
      return c.json({ error: "service_unavailable", message: "shutting down", checks: {} }, 503);
    }
    const entries = await Promise.all(
      Object.entries(opts.checks).map(async ([name, check]) => [name, await check().catch(() => false)] as const),
    );
    const checks = Object.fromEntries(entries);
    const failed = entries.filter(([, ok]) => !ok).map(([name]) => name);
    if (failed.length) {
      return c.json({ error: "service_unavailable", message: `not ready: ${failed.join(", ")}`, checks }, 503);
    }
    return c.json({ status: "ready", checks });
  });
  app.get("/info", (c) => c.json(opts.info));
  if (opts.metrics) {
    const metrics = opts.metrics;
    app.get("/metrics", async (c) => {
      c.header("content-type", "text/plain; version=0.0.4; charset=utf-8");
      return c.body(await metrics.text());
    });
  }
  return app;
}
