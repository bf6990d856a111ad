import { Hono } from "hono";
import { installMethodNotAllowed, notFound, onError } from "./error-handler.ts";
import { type HardenOptions, harden } from "./harden.ts";
import type { Logger } from "./logger.ts";
import { type AppEnv, requestContext } from "./request-context.ts";
import { type SystemInfo, type SystemRoutesOptions, systemRoutes } from "./system-routes.ts";
import { PICLOUD_VERSION } from "./version.ts";

export interface ServiceAppOptions {
  logger: Logger;
  /** Headers, input checks, body caps, the script origin (docs/security.md); omitted on an internal port. */
  harden?: HardenOptions;
  /** `/health`, `/ready`, `/info` (its version is this build's), `/metrics`. */
  system: Omit<SystemRoutesOptions, "info"> & { info: Omit<SystemInfo, "version"> };
  /** The service's own routes, registered before the system routes (so one of them wins on the same path). */
  routes?: (app: Hono<AppEnv>) => void;
  /** Routes after the 405 answers, e.g. a catch-all such as the dashboard. */
  fallback?: (app: Hono<AppEnv>) => void;
}

/**
 * The HTTP app of every binary, in one order: the error contract, request ids and access
 * logs, hardening, the service's routes, the system routes, 405 for a known path asked with
 * another method, then any catch-all.
 */
export function serviceApp(o: ServiceAppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound(notFound);
  app.use("*", requestContext(o.logger));
  if (o.harden) harden(app, o.harden);
  o.routes?.(app);
  app.route("/", systemRoutes({ ...o.system, info: { ...o.system.info, version: PICLOUD_VERSION } }));
  installMethodNotAllowed(app);
  o.fallback?.(app);
  return app;
}
