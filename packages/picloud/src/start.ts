import { resolve } from "node:path";
import { drainAndExit, installGracefulShutdown, type Listening, listen } from "@picloud/http/node";
import { EnvError } from "@picloud/shared";
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
  let draining = false;
  const streams = new AbortController();
  const app = buildApp(services, {
    dashboardDir: resolve(env.PICLOUD_DASHBOARD_DIR ?? DEFAULT_DASHBOARD_DIR),
    draining: () => draining,
    shutdown: streams.signal,
  });
  const listening = await listen(app, { port: env.PORT, host: env.HOST });
  logger.info(
    { url: listening.url, database: services.database.driver, executor: env.PICLOUD_EXECUTOR_MODE },
    "picloud is listening",
  );
  if (services.generatedAdminToken) {
    // Printed once, to the terminal only (not through the structured log).
    process.stderr.write(
      `\n  PiCloud admin token (shown once, store it now):\n\n    ${services.generatedAdminToken}\n\n`,
    );
  }
  const shutdown = {
    servers: [listening.server],
    logger,
    onDrainStart: () => {
      draining = true;
      streams.abort();
    },
    cleanup: () => services.close(),
    timeoutMs: env.PICLOUD_SHUTDOWN_TIMEOUT_MS,
  };
  if (opts.installSignals) installGracefulShutdown(shutdown);
  return {
    services,
    listening,
    stop: () => drainAndExit({ ...shutdown, exit: () => {} }, "stop"),
  };
}

/** Entry for the bin: configuration errors end start-up with one line per variable. */
export async function main(): Promise<void> {
  try {
    await startPicloud(process.env, { installSignals: true });
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`picloud: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    process.stderr.write(`picloud: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`);
    process.exit(1);
  }
}
