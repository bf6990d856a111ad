import { resolve } from "node:path";
import {
  announceAdminToken,
  type EnvSource,
  httpBinary,
  type RunningHttpService,
  type StartOptions,
} from "@picloud/http/node";
import { buildApp } from "./app.ts";
import { DEFAULT_DASHBOARD_DIR } from "./dashboard.ts";
import { loadEnv } from "./env.ts";
import { createServices, type ServiceOverrides, type Services } from "./services.ts";

export type Running = RunningHttpService<Services>;

/** The all-in-one binary; `overrides` replace parts for tests and benchmarks. */
function picloud(overrides: ServiceOverrides = {}) {
  return httpBinary("picloud", loadEnv, {
    open: (loaded, ctx) => createServices(loaded, ctx, overrides),
    app: (services, drain, { env }) =>
      buildApp(services, {
        dashboardDir: resolve(env.PICLOUD_DASHBOARD_DIR ?? DEFAULT_DASHBOARD_DIR),
        draining: drain.draining,
        shutdown: drain.signal,
      }),
    listening: ({ services, listening, logger }, { env }) => {
      logger.info(
        { url: listening.url, database: services.database.driver, executor: env.PICLOUD_EXECUTOR_MODE },
        "picloud is listening",
      );
      announceAdminToken(services.generatedAdminToken);
    },
  });
}

/** Starts the all-in-one server; `installSignals` wires SIGTERM/SIGINT to a graceful drain. */
export function startPicloud(
  source: EnvSource = process.env,
  opts: ServiceOverrides & StartOptions = {},
): Promise<Running> {
  return picloud(opts).start(source, opts);
}

/** Entry for the bin: configuration errors end start-up with one line per variable. */
export const main = (): Promise<void> => picloud().main();
