import { z } from "@hono/zod-openapi";
import {
  ERROR_STATUS,
  ErrorBodySchema,
  type ErrorCode,
  ExecutionLogSchema,
  ExecutionLogSummarySchema,
  InvokeKeySchema,
  ScriptDetailSchema,
  ScriptListItemSchema,
  ScriptRefSchema,
  ScriptVersionSchema,
} from "@picloud/shared";

/**
 * The OpenAPI side of the public API: the shapes are the zod schemas in @picloud/shared
 * (one contract); this module only names them as document components and says which
 * answers each route gives.
 */

/**
 * A shared schema with OpenAPI metadata. @hono/zod-openapi adds `.openapi()` to schemas
 * built after it extends zod; @picloud/shared builds its schemas without it (and may be
 * loaded first), so the metadata goes on a clone, which validates the same.
 */
export function documented<T extends z.ZodType>(schema: T, name: string): T {
  return schema.clone().openapi(name);
}

export const ErrorDoc = documented(ErrorBodySchema, "Error");
export const ScriptDetailDoc = documented(ScriptDetailSchema, "ScriptDetail");
export const ScriptListItemDoc = documented(ScriptListItemSchema, "ScriptListItem");
export const ScriptVersionDoc = documented(ScriptVersionSchema, "ScriptVersion");
export const InvokeKeyDoc = documented(InvokeKeySchema, "InvokeKey");
export const ExecutionLogDoc = documented(ExecutionLogSchema, "ExecutionLog");
export const ExecutionLogSummaryDoc = documented(ExecutionLogSummarySchema, "ExecutionLogSummary");

/** `{id}`: a script's id or name. */
export const IdParam = z.object({
  id: ScriptRefSchema.clone().openapi({ param: { name: "id", in: "path" }, description: "script id or name" }),
});

/** A JSON answer for createRoute. */
export function jsonAnswer<T extends z.ZodType>(schema: T, description: string) {
  return { content: { "application/json": { schema } }, description };
}

/** A JSON request body for createRoute. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { body: { content: { "application/json": { schema } }, required: true } };
}

const WHEN: Partial<Record<ErrorCode, string>> = {
  bad_request: "invalid input (body, query, path, or malformed percent-encoding)",
  unauthorized: "admin token or session required",
  forbidden: "a cookie-authenticated write without the x-picloud-csrf header",
  not_found: "no such script, version, key or execution",
  conflict: "the name is taken",
  payload_too_large: "the body is over the route's cap",
  too_many_requests: "too many wrong admin tokens from this address (Retry-After)",
  internal_server_error: "a platform fault (requestId names the log line)",
  service_unavailable: "not ready, or shed (Retry-After)",
};

/** Error answers (the error contract) for the given codes, keyed by status. */
export function errorAnswers(...codes: ErrorCode[]) {
  const out: Record<number, ReturnType<typeof jsonAnswer<typeof ErrorDoc>>> = {};
  for (const code of codes) out[ERROR_STATUS[code]] = jsonAnswer(ErrorDoc, WHEN[code] ?? code);
  return out;
}

/** What every admin route may answer besides its own: bad input, no credentials, throttled, a fault. */
export const ADMIN_ERRORS = ["bad_request", "unauthorized", "too_many_requests", "internal_server_error"] as const;
/** What an admin write adds: the CSRF check, and the body cap. */
export const WRITE_ERRORS = [...ADMIN_ERRORS, "forbidden", "payload_too_large"] as const;
