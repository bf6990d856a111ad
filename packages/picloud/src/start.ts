import { resolve } from "node:path";
import { announceAdminToken, Drain, type Listening, runMain, serveApp } from "@picloud/http/node";
import { serverLimitsFromEnv } from "@picloud/shared";
import { buildApp } from "./app.ts";
import { DEFAULT_DASHBOARD_DIR } from "./dashboard.ts";
import { loadEnv } from "./env.ts";
import { createServices, type ServiceOverrides, type Services } from "./services.ts";

export interface Running {
  services: Services;
  listening: Listening;
  /** Graceful stop, as on SIGTERM, without exiting the process. */
  stop(): Promise<void>;
}

/** Starts the all-in-one server; `installSignals` wires SIGTERM/SIGINT to a graceful drain. */
export async function startPicloud(
  source: Record<string, string | undefined> = process.env,
  opts: ServiceOverrides & { installSignals?: boolean } = {},
): Promise<Running> {
  const { env, warnings, dataDir } = loadEnv(source);
  const services = await createServices(env, dataDir, opts);
  const { logger } = services;
  for (const w of warnings) logger.warn(w);
  const drain = new Drain();
  const app = buildApp(services, {
    dashboardDir: resolve(env.PICLOUD_DASHBOARD_DIR ?? DEFAULT_DASHBOARD_DIR),
    draining: drain.draining,
    shutdown: drain.signal,
  });
  const served = await serveApp(app, drain, {
    port: env.PORT,
    host: env.HOST,
    logger,
    timeoutMs: env.PICLOUD_SHUTDOWN_TIMEOUT_MS,
    limits: serverLimitsFromEnv(env),
    cleanup: () => services.close(),
    installSignals: opts.installSignals ?? false,
  });
  logger.info(
    { url: served.listening.url, database: services.database.driver, executor: env.PICLOUD_EXECUTOR_MODE },
    "picloud is listening",
  );
  announceAdminToken(services.generatedAdminToken);
  return { services, ...served };
}

/** Entry for the bin: configuration errors end start-up with one line per variable. */
export function main(): Promise<void> {
  return runMain("picloud", () => startPicloud(process.env, { installSignals: true }));
}
