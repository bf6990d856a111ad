import type { Logger, Metrics } from "@picloud/http";
import {
  budgetsFromEnv,
  type ChangeFeed,
  type ExecutionLogSink,
  type Executor,
  type InvocationEnv,
  type ScriptSourceProvider,
} from "@picloud/shared";
import { Orchestrator } from "./orchestrator.ts";
import { ScriptCache } from "./script-cache.ts";

export interface CreateOrchestratorOptions {
  /** Where scripts come from (the manager in process, or over the cluster protocol). */
  source: ScriptSourceProvider;
  /** Change notices that drop cached versions. */
  changes: ChangeFeed;
  executor: Executor;
  sink: ExecutionLogSink;
  /** Concurrency caps, log body size, node id, and the `PICLOUD_BUDGET_*`/`PICLOUD_CEILING_*` variables. */
  env: InvocationEnv & { PICLOUD_NODE_ID: string };
  /** How long a cached version is trusted without a notice (default: ScriptCache's). */
  cacheTtlMs?: number;
  logger: Logger;
  metrics: Metrics;
}

/**
 * The invocation path as the all-in-one and every orchestrator node run it: a script cache
 * that drops a changed script's isolates and readies its new version at once (so that its
 * first request finds it warm), and the orchestrator over it.
 */
export function createOrchestrator(o: CreateOrchestratorOptions): { orchestrator: Orchestrator; cache: ScriptCache } {
  const { env } = o;
  const { defaults, ceilings } = budgetsFromEnv(env);
  const cache = new ScriptCache({
    source: o.source,
    changes: o.changes,
    ...(o.cacheTtlMs === undefined ? {} : { ttlMs: o.cacheTtlMs }),
    onChange: (scriptId, version, name) => {
      o.executor.evict(scriptId, version ?? undefined);
      // The saved version gets its isolate now, so that its first request finds it warm
      // (docs/executor.md, "Budgets and outcomes"). By name: requests usually name the script, and
      // share this lookup while it runs.
      if (version !== null) void orchestrator.prepare(name);
    },
  });
  const orchestrator = new Orchestrator({
    scripts: cache,
    verifyInvokeKey: (id, key) => o.source.verifyInvokeKey(id, key),
    executor: o.executor,
    sink: o.sink,
    concurrency: { global: env.PICLOUD_MAX_CONCURRENCY, perScript: env.PICLOUD_MAX_CONCURRENCY_PER_SCRIPT },
    defaults,
    ceilings,
    nodeId: env.PICLOUD_NODE_ID,
    logBodyBytes: env.PICLOUD_LOG_BODY_BYTES,
    logger: o.logger,
    metrics: o.metrics,
  });
  return { orchestrator, cache };
}
