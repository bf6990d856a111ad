import { isExecutorAddress } from "@picloud/executor-core";
import { type EnvSource, envInt, envFragments as fragment, parseEnv } from "@picloud/shared";
import { z } from "zod";

/**
 * Configuration of `picloud-executor`: the sandbox of one node, serving the executor RPC
 * protocol to its orchestrator. The RPC carries no credentials of its own: listen on a
 * unix socket or a loopback/private address that only the orchestrator can reach. `PORT`
 * is the HTTP port for /health, /ready, /info and /metrics.
 */
export const ExecutorEnvSchema = z.object({
  ...fragment.service({ port: 8792 }),
  /** Where the RPC listens: `host:port` (TCP) or a unix socket path. */
  PICLOUD_EXECUTOR_LISTEN: z
    .string()
    .min(1)
    .refine(isExecutorAddress, { message: "must be host:port or a unix socket path" })
    .default("127.0.0.1:8791"),
  ...fragment.sandbox(),
  /** `--max-old-space-size` of the sandbox process itself (isolates have their own limits). */
  PICLOUD_EXECUTOR_CHILD_HEAP_MB: envInt({ min: 64 }).default(512),
});

export type ExecutorEnv = z.infer<typeof ExecutorEnvSchema>;

/** Reads the env (a bad variable throws `EnvError`). */
export const loadExecutorEnv = (source: EnvSource = process.env) => parseEnv(ExecutorEnvSchema, source);
