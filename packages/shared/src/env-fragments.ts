import { hostname } from "node:os";
import { resolve } from "node:path";
import { z } from "zod";
import { budgetEnvShape, envBool, envInt, executeOriginEnv, LogLevelSchema, serverLimitsEnvShape } from "./env.ts";

/**
 * The pieces of configuration several binaries share, each written once (issue 12): a
 * binary's env schema is its own variables plus the fragments it needs. The tables in
 * README.md and docs/cluster.md list them per binary.
 */

/** What every binary reads: where it listens, its logs, its node id, its drain deadline, its connection limits. */
export function serviceEnvShape(defaults: { port: number }) {
  return {
    PORT: envInt({ min: 1, max: 65535 }).default(defaults.port),
    HOST: z.string().min(1).default("127.0.0.1"),
    PICLOUD_LOG_LEVEL: LogLevelSchema.default("info"),
    PICLOUD_NODE_ID: z.string().min(1).default(hostname()),
    PICLOUD_SHUTDOWN_TIMEOUT_MS: envInt({ min: 100 }).default(15_000),
    ...serverLimitsEnvShape(),
  };
}

/** `PICLOUD_DATA_DIR`, with the binary's default. */
export function dataDirEnvShape(defaultDir: string) {
  return { PICLOUD_DATA_DIR: z.string().min(1).default(defaultDir) };
}

/** The control plane's own settings (the all-in-one and picloud-manager): admin credentials, secrets, retention, cookies. */
export function controlPlaneEnvShape() {
  return {
    PICLOUD_ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    PICLOUD_ENCRYPTION_KEY: z.string().optional(),
    PICLOUD_LOG_RETENTION_DAYS: envInt({ min: 1 }).default(30),
    /** Every request counts as HTTPS: `__Host-` Secure session cookie (auto-detected otherwise). */
    PICLOUD_SECURE_COOKIES: envBool.default(false),
    /** Behind Caddy (or another proxy): the caller's address is the last X-Forwarded-For entry. */
    PICLOUD_TRUST_PROXY: envBool.default(false),
  };
}

/** How invocations are admitted and recorded (the all-in-one and picloud-orchestrator). */
export function invocationEnvShape() {
  return {
    PICLOUD_MAX_CONCURRENCY: envInt({ min: 1 }).default(256),
    PICLOUD_MAX_CONCURRENCY_PER_SCRIPT: envInt({ min: 1 }).default(64),
    PICLOUD_LOG_BODY_BYTES: envInt({ min: 0 }).default(4096),
  };
}

/** The sandbox (the all-in-one and picloud-executor). */
export function sandboxEnvShape() {
  return {
    PICLOUD_EXECUTOR_MODE: z.enum(["process", "in-process"]).default("process"),
    /** Resident-memory cap of the supervised sandbox process (process mode). */
    PICLOUD_EXECUTOR_MEMORY_MB: envInt({ min: 64 }).default(2048),
    /** Synchronous fast path for quick warm isolates (see PoolOptions.syncFastPath): off by default. */
    PICLOUD_EXECUTOR_SYNC_FAST_PATH: envBool.default(false),
    PICLOUD_FETCH_ALLOW_HOSTS: z
      .string()
      .transform((s) =>
        s
          .split(",")
          .map((h) => h.trim())
          .filter(Boolean),
      )
      .default([]),
  };
}

/** `PICLOUD_CLUSTER_TOKEN`: the shared secret of the manager and its orchestrators. */
export function clusterTokenEnvShape() {
  return {
    PICLOUD_CLUSTER_TOKEN: z
      .string({ message: "is required: the shared secret of manager and orchestrators (32+ characters)" })
      .min(32, "must be at least 32 characters (e.g. `openssl rand -base64 48`)"),
  };
}

/** What every binary's env has (`serviceEnvShape`). */
export type ServiceEnv = z.infer<z.ZodObject<ReturnType<typeof serviceEnvShape>>>;
/** The control plane's settings (`controlPlaneEnvShape`). */
export type ControlPlaneEnv = z.infer<z.ZodObject<ReturnType<typeof controlPlaneEnvShape>>>;
/** The sandbox's settings (`sandboxEnvShape`). */
export type SandboxEnv = z.infer<z.ZodObject<ReturnType<typeof sandboxEnvShape>>>;
/** How invocations are admitted and recorded (`invocationEnvShape`). */
export type InvocationEnv = z.infer<z.ZodObject<ReturnType<typeof invocationEnvShape>>>;

/**
 * The fragments under one name, for a binary's env schema:
 * `z.object({ ...env.service({ port }), ...env.controlPlane(), MY_OWN: … })`.
 */
export const envFragments = {
  service: serviceEnvShape,
  dataDir: dataDirEnvShape,
  controlPlane: controlPlaneEnvShape,
  invocation: invocationEnvShape,
  sandbox: sandboxEnvShape,
  clusterToken: clusterTokenEnvShape,
  budgets: budgetEnvShape,
  /** `PICLOUD_EXECUTE_ORIGIN`: the separate script origin, if any. */
  executeOrigin: () => ({ PICLOUD_EXECUTE_ORIGIN: executeOriginEnv }),
};

/** A parsed env (`parseEnv`) with its `PICLOUD_DATA_DIR` resolved to an absolute `dataDir`. */
export function withDataDir<T extends { env: { PICLOUD_DATA_DIR: string } }>(parsed: T): T & { dataDir: string } {
  return { ...parsed, dataDir: resolve(parsed.env.PICLOUD_DATA_DIR) };
}

/** Where a binary reads its configuration from (`process.env`, or a test's own). */
export type EnvSource = Record<string, string | undefined>;
