import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import type { AppEnv } from "@picloud/http";
import { ErrorDoc, jsonAnswer } from "@picloud/manager-core";

/** Adds invocation (`executeRoutes`, a plain Hono route) to the document. */
export function registerExtraPaths(api: OpenAPIHono<AppEnv>): void {
  const r = api.openAPIRegistry;
  const error = (description: string) => jsonAnswer(ErrorDoc, description);
  for (const method of ["get", "post", "put", "patch", "delete"] as const) {
    r.registerPath({
      method,
      path: "/api/execute/{id}",
      tags: ["invoke"],
      summary: "Run the script's current version (also /api/execute/{id}/any/rest/of/path)",
      request: { params: z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) }) },
      responses: {
        200: { description: "the script's own status, headers and body; x-picloud-execution-id on every answer" },
        400: error("the script name is not valid percent-encoding"),
        401: error("private script without a valid invoke key"),
        404: error("no such script (or, with a separate script origin, not called there)"),
        413: error("request body over the script's limit"),
        500: error("script_error (the script threw or answered something invalid), or a platform fault"),
        503: error("budget_exceeded, or shed by the concurrency gate (Retry-After)"),
        504: error("timeout (wall-clock or CPU budget)"),
      },
    });
  }
}
