import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@picloud/http";
import { HealthSchema, InfoSchema, LoginSchema, NotReadySchema, ReadySchema, SessionInfoSchema } from "@picloud/shared";
import { ADMIN_ERRORS, errorAnswers, IdParam, jsonAnswer } from "./schemas.ts";

const text = (description: string, type: string) => ({ description, content: { [type]: { schema: z.string() } } });

/**
 * Adds the routes that are plain Hono handlers, not zod-openapi routes, to the document:
 * sign-in (its order of checks, throttle before body, is its own), the live log stream, the
 * system routes every binary serves, and the document itself. Their shapes are the same
 * schemas from @picloud/shared that the handlers answer with.
 */
export function registerPlatformPaths(api: OpenAPIHono<AppEnv>): void {
  const r = api.openAPIRegistry;
  const auth = ["auth"];
  r.registerPath({
    method: "post",
    path: "/api/auth/login",
    tags: auth,
    summary: "Exchange the admin token for an HttpOnly session cookie",
    request: { body: { content: { "application/json": { schema: LoginSchema } }, required: true } },
    responses: {
      204: { description: "signed in: Set-Cookie carries the session (`__Host-picloud_session` over HTTPS)" },
      ...errorAnswers("bad_request", "unauthorized", "payload_too_large", "too_many_requests", "internal_server_error"),
    },
  });
  r.registerPath({
    method: "post",
    path: "/api/auth/logout",
    tags: auth,
    responses: {
      204: { description: "signed out: the session is deleted and its cookie cleared" },
      ...errorAnswers("bad_request", "payload_too_large", "internal_server_error"),
    },
  });
  r.registerPath({
    method: "get",
    path: "/api/auth/session",
    tags: auth,
    responses: {
      200: jsonAnswer(SessionInfoSchema, "signed in (by token or session)"),
      ...errorAnswers("bad_request", "unauthorized", "internal_server_error"),
    },
  });
  r.registerPath({
    method: "get",
    path: "/api/scripts/{id}/logs/stream",
    tags: ["logs"],
    summary: "Server-Sent Events: `ready`, then an `execution` event (a list item) per new run",
    request: { params: IdParam },
    responses: {
      200: text("the event stream; comment heartbeats when idle", "text/event-stream"),
      ...errorAnswers(...ADMIN_ERRORS, "not_found"),
    },
  });

  const system = ["system"];
  const malformed = errorAnswers("bad_request", "internal_server_error");
  r.registerPath({
    method: "get",
    path: "/health",
    tags: system,
    responses: { 200: jsonAnswer(HealthSchema, "alive"), ...malformed },
  });
  r.registerPath({
    method: "get",
    path: "/ready",
    tags: system,
    responses: {
      200: jsonAnswer(ReadySchema, "every check passed"),
      503: jsonAnswer(NotReadySchema, "a check failed, or draining"),
      ...malformed,
    },
  });
  r.registerPath({
    method: "get",
    path: "/info",
    tags: system,
    responses: { 200: jsonAnswer(InfoSchema, "version, mode, node id"), ...malformed },
  });
  r.registerPath({
    method: "get",
    path: "/metrics",
    tags: system,
    summary: "Prometheus text format; needs the admin token (or, in a cluster, the cluster token) as a bearer",
    responses: {
      200: text("Prometheus text format", "text/plain"),
      ...errorAnswers("bad_request", "unauthorized", "internal_server_error"),
    },
  });
  r.registerPath({
    method: "get",
    path: "/openapi.json",
    tags: system,
    responses: { 200: jsonAnswer(z.record(z.string(), z.unknown()), "this document (OpenAPI 3.1)"), ...malformed },
  });
}
