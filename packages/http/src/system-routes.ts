import { createHash, timingSafeEqual } from "node:crypto";
import { bearerToken, type Health, type NotReady, PiCloudError, type Ready, type SystemInfo } from "@picloud/shared";
import { type Context, Hono } from "hono";
import type { Metrics } from "./metrics.ts";
import type { AppEnv } from "./request-context.ts";

export type { SystemInfo };

export interface SystemRoutesOptions {
  info: SystemInfo;
  /** Named readiness checks; /ready is 200 only when all pass. */
  checks: Record<string, () => Promise<boolean>>;
  /** Set to true while shutting down: /ready answers 503 at once. */
  draining: () => boolean;
  metrics?: Metrics;
  /**
   * Who may read /metrics (it names scripts, private ones included): e.g. the admin or
   * cluster token as a bearer. Without it /metrics is open — only for a process whose
   * HTTP port is internal (picloud-executor's probe port): docs/security.md, "Metrics".
   */
  metricsAuth?: (c: Context<AppEnv>) => boolean | Promise<boolean>;
}

/** Checks `Authorization: Bearer <secret>` against a list of secrets in constant time. */
export function bearerIsOneOf(c: Context, secrets: (string | undefined | null)[]): boolean {
  const token = bearerToken(c.req.header("authorization"));
  const presented = createHash("sha256")
    .update(token ?? "")
    .digest();
  let ok = false;
  for (const s of secrets) {
    if (!s || token === null) continue;
    if (timingSafeEqual(presented, createHash("sha256").update(s).digest())) ok = true;
  }
  return ok;
}

/** GET /health, /ready, /info and /metrics (docs/api.md, "System"). */
export function systemRoutes(opts: SystemRoutesOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const started = Date.now();
  app.get("/health", (c) =>
    c.json({ status: "ok", uptimeS: Math.round((Date.now() - started) / 1000) } satisfies Health),
  );
  app.get("/ready", async (c) => {
    if (opts.draining()) {
      return c.json({ error: "service_unavailable", message: "shutting down", checks: {} } satisfies NotReady, 503);
    }
    const entries = await Promise.all(
      Object.entries(opts.checks).map(async ([name, check]) => [name, await check().catch(() => false)] as const),
    );
    const checks = Object.fromEntries(entries);
    const failed = entries.filter(([, ok]) => !ok).map(([name]) => name);
    if (failed.length) {
      const answer: NotReady = { error: "service_unavailable", message: `not ready: ${failed.join(", ")}`, checks };
      return c.json(answer, 503);
    }
    return c.json({ status: "ready", checks } satisfies Ready);
  });
  app.get("/info", (c) => c.json(opts.info));
  if (opts.metrics) {
    const metrics = opts.metrics;
    const authorize = opts.metricsAuth;
    app.get("/metrics", async (c) => {
      if (authorize && !(await authorize(c))) {
        throw new PiCloudError("unauthorized", "/metrics needs a bearer token (see docs/security.md)", {
          headers: { "WWW-Authenticate": 'Bearer realm="picloud-metrics"' },
        });
      }
      c.header("content-type", "text/plain; version=0.0.4; charset=utf-8");
      return c.body(await metrics.text());
    });
  }
  return app;
}
