import { z } from "@hono/zod-openapi";
import { ERROR_CODES, EXECUTION_STATUSES, ScriptLimitsSchema, VISIBILITIES } from "@picloud/shared";

/** OpenAPI schemas of the answers; request bodies reuse the zod schemas in @picloud/shared. */
export const ErrorSchema = z
  .object({
    error: z.enum(ERROR_CODES as [string, ...string[]]),
    message: z.string(),
    requestId: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi("Error");

export const ScriptViewSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    description: z.string(),
    version: z.number().int(),
    visibility: z.enum(VISIBILITIES),
    limits: ScriptLimitsSchema,
    envNames: z.array(z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
    endpoint: z.string(),
  })
  .openapi("Script");

export const ScriptDetailSchema = ScriptViewSchema.extend({ source: z.string() }).openapi("ScriptDetail");

export const ScriptStatsSchema = z.object({
  lastRun: z.object({ status: z.enum(EXECUTION_STATUSES), createdAt: z.string() }).nullable(),
  runs24h: z.number().int(),
  errors24h: z.number().int(),
});

export const ScriptListItemSchema = ScriptViewSchema.extend({ stats: ScriptStatsSchema }).openapi("ScriptListItem");

export const VersionSchema = z
  .object({
    version: z.number().int(),
    createdAt: z.string(),
    rolledBackFrom: z.number().int().nullable(),
    source: z.string().optional(),
  })
  .openapi("ScriptVersion");

export const InvokeKeySchema = z
  .object({ id: z.string(), name: z.string(), prefix: z.string(), createdAt: z.string(), key: z.string().optional() })
  .openapi("InvokeKey");

const HttpSummarySchema = {
  headers: z.record(z.string(), z.string()),
  body: z.string().nullable(),
  bodyEncoding: z.enum(["utf8", "base64"]),
  bodySize: z.number().int(),
  bodyTruncated: z.boolean(),
};

const ExecutionBase = {
  id: z.string().uuid(),
  scriptId: z.string().uuid(),
  scriptName: z.string(),
  version: z.number().int(),
  trigger: z.string(),
  status: z.enum(EXECUTION_STATUSES),
  reason: z.string(),
  request: z.object({ method: z.string(), path: z.string(), query: z.string(), ...HttpSummarySchema }),
  response: z.object({ status: z.number().int(), ...HttpSummarySchema }).nullable(),
  logsTruncated: z.boolean(),
  error: z.object({ name: z.string(), message: z.string(), stack: z.string().nullable() }).nullable(),
  durationMs: z.number(),
  cpuMs: z.number(),
  nodeId: z.string(),
  createdAt: z.string(),
};

export const LogEntrySchema = z.object({
  level: z.enum(["debug", "info", "warn", "error"]),
  message: z.string(),
  data: z.unknown().optional(),
  ts: z.number(),
});

export const ExecutionLogSchema = z.object({ ...ExecutionBase, logs: z.array(LogEntrySchema) }).openapi("ExecutionLog");
export const ExecutionSummarySchema = z
  .object({ ...ExecutionBase, logCount: z.number().int() })
  .openapi("ExecutionLogSummary");

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable(), total: z.number().int().optional() });
}

export const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .refine((s) => !s.includes("\0"), "must not contain NUL characters")
    .openapi({ param: { name: "id", in: "path" }, description: "script id or name" }),
});

/** JSON answer helpers for createRoute. */
export function json<T extends z.ZodType>(schema: T, description: string) {
  return { content: { "application/json": { schema } }, description };
}
export const errorResponses = {
  400: json(ErrorSchema, "bad request"),
  401: json(ErrorSchema, "admin token or session required"),
  404: json(ErrorSchema, "not found"),
};
