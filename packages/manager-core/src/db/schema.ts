import type {
  ExecutionReason,
  ExecutionStatus,
  LogEntry,
  RequestSummary,
  ResponseSummary,
  ScriptLimits,
  SerializedError,
  Visibility,
} from "@picloud/shared";
import {
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

/** Scripts: one row per script; `currentVersion` points into script_versions. */
export const scripts = pgTable(
  "scripts",
  {
    id: uuid("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    currentVersion: integer("current_version").notNull(),
    visibility: text("visibility").$type<Visibility>().notNull().default("public"),
    limits: jsonb("limits").$type<ScriptLimits>().notNull().default({}),
    /** Env values encrypted with AES-256-GCM: name -> `iv.tag.ciphertext` (base64url). */
    env: jsonb("env").$type<Record<string, string>>().notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("scripts_name_key").on(t.name)],
);

/** Immutable versions: every update and rollback appends one. */
export const scriptVersions = pgTable(
  "script_versions",
  {
    scriptId: uuid("script_id")
      .notNull()
      .references(() => scripts.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    source: text("source").notNull(),
    compiled: text("compiled").notNull(),
    rolledBackFrom: integer("rolled_back_from"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.scriptId, t.version] })],
);

/**
 * One row per invocation. The UUIDv7 id is ordered by time, so (script_id, id DESC)
 * serves "newest first" pages and keyset cursors, and the primary key serves retention.
 * No foreign key to scripts: logs outlive a deleted script until retention removes them,
 * and the sink never fails on a race with a delete.
 */
export const executionLogs = pgTable(
  "execution_logs",
  {
    id: uuid("id").primaryKey(),
    scriptId: uuid("script_id").notNull(),
    scriptName: text("script_name").notNull(),
    version: integer("version").notNull(),
    trigger: text("trigger").notNull(),
    status: text("status").$type<ExecutionStatus>().notNull(),
    reason: text("reason").$type<ExecutionReason>().notNull(),
    request: jsonb("request").$type<RequestSummary>().notNull(),
    response: jsonb("response").$type<ResponseSummary | null>(),
    logs: jsonb("logs").$type<LogEntry[]>().notNull().default([]),
    logsTruncated: boolean("logs_truncated").notNull().default(false),
    error: jsonb("error").$type<SerializedError | null>(),
    durationMs: real("duration_ms").notNull(),
    cpuMs: real("cpu_ms").notNull(),
    nodeId: text("node_id").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    index("execution_logs_script_id_idx").on(t.scriptId, t.id.desc()),
    index("execution_logs_script_status_id_idx").on(t.scriptId, t.status, t.id.desc()),
  ],
);

/** Invoke keys for private scripts; only a SHA-256 of the key is kept. */
export const invokeKeys = pgTable(
  "invoke_keys",
  {
    id: uuid("id").primaryKey(),
    scriptId: uuid("script_id")
      .notNull()
      .references(() => scripts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    keyHash: text("key_hash").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [uniqueIndex("invoke_keys_hash_key").on(t.keyHash), index("invoke_keys_script_idx").on(t.scriptId)],
);

/** Small key/value settings owned by the manager (e.g. the admin token hash). */
export const settings = pgTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/** Dashboard sessions: the cookie carries a random id; only its hash is stored. */
export const sessions = pgTable(
  "sessions",
  {
    idHash: text("id_hash").primaryKey(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [index("sessions_expires_idx").on(t.expiresAt)],
);
