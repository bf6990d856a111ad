import { hostname } from "node:os";
import { resolve } from "node:path";
import {
  budgetEnvShape,
  envBool,
  envInt,
  executeOriginEnv,
  LogLevelSchema,
  parseEnv,
  serverLimitsEnvShape,
} from "@picloud/shared";
import { z } from "zod";

/**
 * Configuration of the all-in-one `picloud` binary. Parsed once at start-up; a bad value
 * stops it with one line naming the variable (see `parseEnv`).
 */
export const PicloudEnvSchema = z.object({
  PORT: envInt({ min: 1, max: 65535 }).default(8787),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL; leave it unset for the embedded database")
    .optional(),
  PICLOUD_DATA_DIR: z.string().min(1).default("./.picloud/data"),
  PICLOUD_ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  PICLOUD_ENCRYPTION_KEY: z.string().optional(),
  PICLOUD_LOG_LEVEL: LogLevelSchema.default("info"),
  PICLOUD_NODE_ID: z.string().min(1).default(hostname()),
  PICLOUD_EXECUTOR_MODE: z.enum(["process", "in-process"]).default("process"),
  PICLOUD_EXECUTOR_MEMORY_MB: envInt({ min: 64 }).default(2048),
  /** Synchronous fast path for quick warm isolates (see PoolOptions.syncFastPath): off by default. */
  PICLOUD_EXECUTOR_SYNC_FAST_PATH: envBool.default(false),
  PICLOUD_MAX_CONCURRENCY: envInt({ min: 1 }).default(256),
  PICLOUD_MAX_CONCURRENCY_PER_SCRIPT: envInt({ min: 1 }).default(64),
  PICLOUD_LOG_BODY_BYTES: envInt({ min: 0 }).default(4096),
  PICLOUD_LOG_RETENTION_DAYS: envInt({ min: 1 }).default(30),
  PICLOUD_FETCH_ALLOW_HOSTS: z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((h) => h.trim())
        .filter(Boolean),
    )
    .default([]),
  PICLOUD_DASHBOARD_DIR: z.string().optional(),
  /** Every request counts as HTTPS: `__Host-` Secure session cookie (auto-detected otherwise). */
  PICLOUD_SECURE_COOKIES: envBool.default(false),
  /** Behind Caddy (or another proxy): the caller's address is the last X-Forwarded-For entry. */
  PICLOUD_TRUST_PROXY: envBool.default(false),
  PICLOUD_EXECUTE_ORIGIN: executeOriginEnv,
  PICLOUD_SHUTDOWN_TIMEOUT_MS: envInt({ min: 100 }).default(15_000),
  ...serverLimitsEnvShape(),
  ...budgetEnvShape(),
});

export type PicloudEnv = z.infer<typeof PicloudEnvSchema>;

export function loadEnv(source: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(PicloudEnvSchema, source);
  return { ...parsed, dataDir: resolve(parsed.env.PICLOUD_DATA_DIR) };
}
