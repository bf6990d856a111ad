import { isExecutorAddress } from "@picloud/executor-core";
import { type EnvSource, envInt, envFragments as fragment, parseEnv, withDataDir } from "@picloud/shared";
import { z } from "zod";

/**
 * Configuration of `picloud-orchestrator`: the event ingress of one node. It reaches the
 * manager over HTTP with the cluster token and its executor over the executor RPC.
 */
export const OrchestratorEnvSchema = z.object({
  ...fragment.service({ port: 8788 }),
  /** Execution logs the manager cannot take yet are spilled under `<dir>/sink-spill/`. */
  ...fragment.dataDir("./.picloud/orchestrator"),
  PICLOUD_MANAGER_URL: z
    .string({ message: "is required: the manager's base URL, e.g. http://10.0.0.5:8790" })
    .regex(/^https?:\/\/[^/]+/, "must be an http:// or https:// URL"),
  ...fragment.clusterToken(),
  /** The node's picloud-executor: `host:port` or a unix socket path. */
  PICLOUD_EXECUTOR_ADDRESS: z
    .string()
    .min(1)
    .refine(isExecutorAddress, { message: "must be host:port or a unix socket path" })
    .default("127.0.0.1:8791"),
  /** Current versions are trusted this long without a change notice (a bound should one be missed). */
  PICLOUD_SCRIPT_CACHE_TTL_MS: envInt({ min: 0 }).default(30_000),
  ...fragment.invocation(),
  // The separate script origin, as on the manager: answers there go without the sandbox policy.
  ...fragment.executeOrigin(),
  ...fragment.budgets(),
});

export type OrchestratorEnv = z.infer<typeof OrchestratorEnvSchema>;

/** Reads the env (a bad variable throws `EnvError`), with the data directory made absolute. */
export const loadOrchestratorEnv = (source: EnvSource = process.env) =>
  withDataDir(parseEnv(OrchestratorEnvSchema, source));
