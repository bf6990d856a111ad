import { PiCloudError } from "@picloud/shared";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./request-context.ts";

/** Where invocations live on every origin. */
export const EXECUTE_PREFIX = "/api/execute/";

/**
 * The operator's separate script origin (`PICLOUD_EXECUTE_ORIGIN`, e.g.
 * `https://run.example.com`): scripts are served there, and only there are they free of
 * the sandbox policy; the dashboard and the API never answer there (docs/security.md).
 */
export class ExecuteOrigin {
  /** The origin, e.g. `https://run.example.com`; null when scripts share the platform's origin. */
  readonly origin: string | null;
  readonly #host: string | null;

  constructor(origin: string | null | undefined) {
    this.origin = origin ? new URL(origin).origin : null;
    this.#host = this.origin ? new URL(this.origin).host.toLowerCase() : null;
  }

  /** Whether the request came to the separate script origin (by its Host). */
  matches(c: Context): boolean {
    if (!this.#host) return false;
    return new URL(c.req.url).host.toLowerCase() === this.#host;
  }

  /**
   * On the script origin, everything but invocations answers 404: the dashboard, the API,
   * the session routes and the probes belong to the platform's origin.
   */
  platformOnly(): MiddlewareHandler<AppEnv> {
    return async (c, next) => {
      if (this.matches(c) && !c.req.path.startsWith(EXECUTE_PREFIX)) {
        throw new PiCloudError("not_found", "this origin serves scripts only (/api/execute/…)");
      }
      await next();
    };
  }
}
