import { z } from "zod";
import { ScriptLimitsSchema } from "../budgets.ts";
import { ExecutionStatusSchema } from "../execution.ts";
import { ENV_NAME_RE, ScriptNameSchema, VISIBILITIES } from "../script.ts";
import { MAX_VERSION, Timestamp, text } from "./common.ts";

/** A script as the API shows it. Env values are write-only: only names come back. */
export const ScriptViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  version: z.number().int().positive(),
  visibility: z.enum(VISIBILITIES),
  limits: ScriptLimitsSchema,
  envNames: z.array(z.string()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  /** Path of the invocation endpoint, e.g. `/api/execute/hello`. */
  endpoint: z.string(),
});
export type ScriptView = z.infer<typeof ScriptViewSchema>;

/** A script with its current source (GET /api/scripts/{id}, and every write's answer). */
export const ScriptDetailSchema = ScriptViewSchema.extend({ source: z.string() });
export type ScriptDetail = z.infer<typeof ScriptDetailSchema>;

/** What the script list shows of a script's activity: its last run, and runs in the last 24 hours. */
export const ScriptStatsSchema = z.object({
  lastRun: z.object({ status: ExecutionStatusSchema, createdAt: Timestamp }).nullable(),
  runs24h: z.number().int().nonnegative(),
  /** Runs with a status other than `success`. */
  errors24h: z.number().int().nonnegative(),
});
export type ScriptStats = z.infer<typeof ScriptStatsSchema>;

/** A row of GET /api/scripts. */
export const ScriptListItemSchema = ScriptViewSchema.extend({ stats: ScriptStatsSchema });
export type ScriptListItem = z.infer<typeof ScriptListItemSchema>;

export const ScriptVersionSchema = z.object({
  version: z.number().int().positive(),
  createdAt: Timestamp,
  /** The version this one was rolled back from, if it was made by a rollback. */
  rolledBackFrom: z.number().int().positive().nullable(),
  /** Only when one version is asked for. */
  source: z.string().optional(),
});
export type ScriptVersionView = z.infer<typeof ScriptVersionSchema>;

export const InvokeKeySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  /** Only on creation: the key itself, shown once. */
  key: z.string().optional(),
  /** The key's first characters, to tell keys apart. */
  prefix: z.string(),
  createdAt: Timestamp,
});
export type InvokeKeyView = z.infer<typeof InvokeKeySchema>;

const EnvNameSchema = z.string().regex(ENV_NAME_RE, "env names are identifiers");
const SourceSchema = text()
  .min(1)
  .max(1024 * 1024);

export const CreateScriptSchema = z
  .object({
    name: ScriptNameSchema,
    source: SourceSchema,
    description: text().max(2000).optional(),
    limits: ScriptLimitsSchema.optional(),
    visibility: z.enum(VISIBILITIES).optional(),
    env: z.record(EnvNameSchema, text().max(64 * 1024)).optional(),
  })
  .strict();
export type CreateScriptInput = z.infer<typeof CreateScriptSchema>;

/** Update: every field optional; `env` replaces the whole set (a `null` value removes a name). */
export const UpdateScriptSchema = z
  .object({
    name: ScriptNameSchema.optional(),
    source: SourceSchema.optional(),
    description: text().max(2000).optional(),
    limits: ScriptLimitsSchema.optional(),
    visibility: z.enum(VISIBILITIES).optional(),
    env: z
      .record(
        EnvNameSchema,
        text()
          .max(64 * 1024)
          .nullable(),
      )
      .optional(),
  })
  .strict();
export type UpdateScriptInput = z.infer<typeof UpdateScriptSchema>;

export const RollbackSchema = z.object({ version: z.number().int().positive().max(MAX_VERSION) }).strict();
export type RollbackInput = z.infer<typeof RollbackSchema>;

export const CreateInvokeKeySchema = z.object({ name: text().min(1).max(100) }).strict();
export type CreateInvokeKeyInput = z.infer<typeof CreateInvokeKeySchema>;

/** Query of GET /api/scripts: a name search, and keyset pages by name. */
export const ScriptListQuerySchema = z.object({
  search: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(0).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

/** A version number in a path. */
export const VersionParamSchema = z.coerce.number().int().positive().max(MAX_VERSION);
