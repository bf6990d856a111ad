import { z } from "zod";
import type { ScriptLimits } from "./budgets.ts";
import { ScriptLimitsSchema } from "./budgets.ts";
import type { ExecutionLog } from "./execution.ts";
import { ENV_NAME_RE, ScriptNameSchema, VISIBILITIES, type Visibility } from "./script.ts";

/** A page of a list answer (docs/api.md#logs). */
export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
  total?: number;
}

/** A script as the API shows it. Env values are write-only: only names come back. */
export interface ScriptView {
  id: string;
  name: string;
  description: string;
  version: number;
  visibility: Visibility;
  limits: ScriptLimits;
  envNames: string[];
  createdAt: string;
  updatedAt: string;
  /** Path of the invocation endpoint, e.g. `/api/execute/hello`. */
  endpoint: string;
}

/** A script with its current source (GET /api/scripts/{id}). */
export interface ScriptDetail extends ScriptView {
  source: string;
}

export interface ScriptVersionView {
  version: number;
  createdAt: string;
  /** The version this one was rolled back from, if it was made by a rollback. */
  rolledBackFrom: number | null;
  source?: string;
}

export interface InvokeKeyView {
  id: string;
  name: string;
  /** Only on creation: the key itself, shown once. */
  key?: string;
  prefix: string;
  createdAt: string;
}

/** Text as PostgreSQL stores it: no NUL character (a 400 here, never a database error). */
export function text() {
  return z.string().refine((s) => !s.includes("\0"), "must not contain NUL characters");
}

/** The largest version number (PostgreSQL `integer`). */
export const MAX_VERSION = 2_147_483_647;

const EnvSchema = z.record(z.string().regex(ENV_NAME_RE, "env names are identifiers"), text().max(64 * 1024));

export const CreateScriptSchema = z
  .object({
    name: ScriptNameSchema,
    source: text()
      .min(1)
      .max(1024 * 1024),
    description: text().max(2000).optional(),
    limits: ScriptLimitsSchema.optional(),
    visibility: z.enum(VISIBILITIES).optional(),
    env: EnvSchema.optional(),
  })
  .strict();
export type CreateScriptInput = z.infer<typeof CreateScriptSchema>;

/** Update: every field optional; `env` replaces the whole set (a `null` value removes a name). */
export const UpdateScriptSchema = z
  .object({
    name: ScriptNameSchema.optional(),
    source: text()
      .min(1)
      .max(1024 * 1024)
      .optional(),
    description: text().max(2000).optional(),
    limits: ScriptLimitsSchema.optional(),
    visibility: z.enum(VISIBILITIES).optional(),
    env: z
      .record(
        z.string().regex(ENV_NAME_RE, "env names are identifiers"),
        text()
          .max(64 * 1024)
          .nullable(),
      )
      .optional(),
  })
  .strict();
export type UpdateScriptInput = z.infer<typeof UpdateScriptSchema>;

export const RollbackSchema = z.object({ version: z.number().int().positive().max(MAX_VERSION) }).strict();

/** A list row of executions: bodies and logs may be left out. */
export type ExecutionLogSummary = Omit<ExecutionLog, "logs"> & { logCount: number };
