import { hostname } from "node:os";
import { isExecutorAddress } from "@picloud/executor-core";
import { envBool, envInt, LogLevelSchema, parseEnv, serverLimitsEnvShape } from "@picloud/shared";
import { z } from "zod";

/**
 * Configuration of `picloud-executor`: the sandbox of one node, serving the executor RPC
 * protocol to its orchestrator. The RPC carries no credentials of its own: listen on a
 * unix socket or a loopback/private address that only the orchestrator can reach.
 */
export const ExecutorEnvSchema = z.object({
  /** HTTP port for /health, /ready, /info and /metrics. */
  PORT: envInt({ min: 1, max: 65535 }).default(8792),
  HOST: z.string().min(1).default("127.0.0.1"),
  /** Where the RPC listens: `host:port` (TCP) or a unix socket path. */
  PICLOUD_EXECUTOR_LISTEN: z
    .string()
    .min(1)
    .refine(isExecutorAddress, { message: "must be host:port or a unix socket path" })
    .default("127.0.0.1:8791"),
  PICLOUD_EXECUTOR_MODE: z.enum(["process", "in-process"]).default("process"),
  /** Resident-memory cap of the supervised sandbox process (process mode). */
  PICLOUD_EXECUTOR_MEMORY_MB: envInt({ min: 64 }).default(2048),
  /** Synchronous fast path for quick warm isolates (see PoolOptions.syncFastPath): off by default. */
  PICLOUD_EXECUTOR_SYNC_FAST_PATH: envBool.default(false),
  /** `--max-old-space-size` of the sandbox process itself (isolates have their own limits). */
  PICLOUD_EXECUTOR_CHILD_HEAP_MB: envInt({ min: 64 }).default(512),
  PICLOUD_FETCH_ALLOW_HOSTS: z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((h) => h.trim())
        .filter(Boolean),
    )
    .default([]),
  PICLOUD_LOG_LEVEL: LogLevelSchema.default("info"),
  PICLOUD_NODE_ID: z.string().min(1).default(hostname()),
  PICLOUD_SHUTDOWN_TIMEOUT_MS: envInt({ min: 100 }).default(15_000),
  ...serverLimitsEnvShape(),
});

export type ExecutorEnv = z.infer<typeof ExecutorEnvSchema>;

export function loadExecutorEnv(source: Record<string, string | undefined> = process.env) {
  return parseEnv(ExecutorEnvSchema, source);
}
