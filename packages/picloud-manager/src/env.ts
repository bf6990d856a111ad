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
 * Configuration of `picloud-manager`, the control plane of a cluster: the only process
 * that talks to PostgreSQL. Parsed once at start-up; a bad value stops it with one line
 * naming the variable.
 */
export const ManagerEnvSchema = z.object({
  PORT: envInt({ min: 1, max: 65535 }).default(8790),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z
    .string({ message: "is required: cluster mode runs on PostgreSQL (postgres://…)" })
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL (cluster mode has no embedded database)"),
  PICLOUD_CLUSTER_TOKEN: z
    .string({ message: "is required: the shared secret of manager and orchestrators (32+ characters)" })
    .min(32, "must be at least 32 characters (e.g. `openssl rand -base64 48`)"),
  PICLOUD_DATA_DIR: z.string().min(1).default("./.picloud/manager"),
  PICLOUD_ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  PICLOUD_ENCRYPTION_KEY: z.string().optional(),
  PICLOUD_LOG_LEVEL: LogLevelSchema.default("info"),
  PICLOUD_NODE_ID: z.string().min(1).default(hostname()),
  PICLOUD_LOG_RETENTION_DAYS: envInt({ min: 1 }).default(30),
  /** Every request counts as HTTPS: `__Host-` Secure session cookie (auto-detected otherwise). */
  PICLOUD_SECURE_COOKIES: envBool.default(false),
  /** Behind Caddy (or another proxy): the caller's address is the last X-Forwarded-For entry. */
  PICLOUD_TRUST_PROXY: envBool.default(false),
  PICLOUD_EXECUTE_ORIGIN: executeOriginEnv,
  PICLOUD_DB_MAX_CONNECTIONS: envInt({ min: 2, max: 1000 }).default(10),
  PICLOUD_SHUTDOWN_TIMEOUT_MS: envInt({ min: 100 }).default(15_000),
  ...serverLimitsEnvShape(),
  ...budgetEnvShape(),
});

export type ManagerEnv = z.infer<typeof ManagerEnvSchema>;

export function loadManagerEnv(source: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(ManagerEnvSchema, source);
  return { ...parsed, dataDir: resolve(parsed.env.PICLOUD_DATA_DIR) };
}
