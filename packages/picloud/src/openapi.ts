import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import type { AppEnv } from "@picloud/http";

/** Adds the routes that are not zod-openapi routes (system, invocation) to the document. */
export function registerExtraPaths(api: OpenAPIHono<AppEnv>): void {
  const r = api.openAPIRegistry;
  const text = (description: string) => ({ description, content: { "application/json": { schema: z.object({}) } } });
  r.registerPath({ method: "get", path: "/health", tags: ["system"], responses: { 200: text("alive") } });
  r.registerPath({
    method: "get",
    path: "/ready",
    tags: ["system"],
    responses: { 200: text("database and executor reachable"), 503: text("not ready or draining") },
  });
  r.registerPath({
    method: "get",
    path: "/info",
    tags: ["system"],
    responses: { 200: text("version, mode, node id") },
  });
  r.registerPath({
    method: "get",
    path: "/metrics",
    tags: ["system"],
    responses: { 200: { description: "Prometheus text format" } },
  });
  for (const method of ["get", "post", "put", "patch", "delete"] as const) {
    r.registerPath({
      method,
      path: "/api/execute/{id}",
      tags: ["invoke"],
      summary: "Run the script's current version (also /api/execute/{id}/any/rest/of/path)",
      request: { params: z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) }) },
      responses: {
        200: { description: "the script's own status, headers and body; x-picloud-execution-id on every answer" },
        401: text("private script without a valid invoke key"),
        404: text("no such script"),
        413: text("request body over the script's limit"),
        500: text("script_error"),
        503: text("budget_exceeded, or shed by the concurrency gate (Retry-After)"),
        504: text("timeout"),
      },
    });
  }
}
