import { hostname } from "node:os";
import { resolve } from "node:path";
import { isExecutorAddress } from "@picloud/executor-core";
import {
  budgetEnvShape,
  envInt,
  executeOriginEnv,
  LogLevelSchema,
  parseEnv,
  serverLimitsEnvShape,
} from "@picloud/shared";
import { z } from "zod";

/**
 * Configuration of `picloud-orchestrator`: the event ingress of one node. It reaches the
 * manager over HTTP with the cluster token and its executor over the executor RPC.
 */
export const OrchestratorEnvSchema = z.object({
  PORT: envInt({ min: 1, max: 65535 }).default(8788),
  HOST: z.string().min(1).default("127.0.0.1"),
  PICLOUD_MANAGER_URL: z
    .string({ message: "is required: the manager's base URL, e.g. http://10.0.0.5:8790" })
    .regex(/^https?:\/\/[^/]+/, "must be an http:// or https:// URL"),
  PICLOUD_CLUSTER_TOKEN: z
    .string({ message: "is required: the shared secret of manager and orchestrators (32+ characters)" })
    .min(32, "must be at least 32 characters"),
  /** The node's picloud-executor: `host:port` or a unix socket path. */
  PICLOUD_EXECUTOR_ADDRESS: z
    .string()
    .min(1)
    .refine(isExecutorAddress, { message: "must be host:port or a unix socket path" })
    .default("127.0.0.1:8791"),
  /** Execution logs the manager cannot take yet are spilled under `<dir>/sink-spill/`. */
  PICLOUD_DATA_DIR: z.string().min(1).default("./.picloud/orchestrator"),
  PICLOUD_MAX_CONCURRENCY: envInt({ min: 1 }).default(256),
  PICLOUD_MAX_CONCURRENCY_PER_SCRIPT: envInt({ min: 1 }).default(64),
  PICLOUD_LOG_BODY_BYTES: envInt({ min: 0 }).default(4096),
  /** The separate script origin, as on the manager: answers there go without the sandbox policy. */
  PICLOUD_EXECUTE_ORIGIN: executeOriginEnv,
  /** Current versions are trusted this long without a change notice (a bound should one be missed). */
  PICLOUD_SCRIPT_CACHE_TTL_MS: envInt({ min: 0 }).default(30_000),
  PICLOUD_LOG_LEVEL: LogLevelSchema.default("info"),
  PICLOUD_NODE_ID: z.string().min(1).default(hostname()),
  PICLOUD_SHUTDOWN_TIMEOUT_MS: envInt({ min: 100 }).default(15_000),
  ...serverLimitsEnvShape(),
  ...budgetEnvShape(),
});

export type OrchestratorEnv = z.infer<typeof OrchestratorEnvSchema>;

export function loadOrchestratorEnv(source: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(OrchestratorEnvSchema, source);
  return { ...parsed, dataDir: resolve(parsed.env.PICLOUD_DATA_DIR) };
}
