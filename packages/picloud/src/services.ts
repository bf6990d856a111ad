import { CompilerProcess, createExecutor } from "@picloud/executor-core";
import type { Logger, Metrics } from "@picloud/http";
import type { ServiceContext } from "@picloud/http/node";
import {
  type ControlPlane,
  LocalScriptSource,
  openControlPlane,
  PostgresExecutionLogSink,
  publishingWriter,
} from "@picloud/manager-core";
import { createOrchestrator, type Orchestrator } from "@picloud/orchestrator-core";
import { budgetsFromEnv, type ExecutionLogSink, type Executor, LocalChangeFeed } from "@picloud/shared";
import type { PicloudEnv } from "./env.ts";

/** Everything the all-in-one process runs, built from its configuration. */
export interface Services extends ControlPlane {
  env: PicloudEnv;
  logger: Logger;
  metrics: Metrics;
  sink: ExecutionLogSink;
  executor: Executor;
  /** Compiles saved sources in a supervised child (a source that crashes esbuild is contained). */
  compiler: CompilerProcess;
  orchestrator: Orchestrator;
}

export interface ServiceOverrides {
  /** Replace the sink (tests: a sink that throws; benchmarks: the null sink). */
  sink?: (inner: ExecutionLogSink) => ExecutionLogSink;
}

/**
 * Opens everything the all-in-one runs, registering each part on `ctx.resources` as it is
 * opened: a step that fails closes what came before (the database when migrations fail),
 * and a drain closes them newest first (sink, executor, retention, database, compiler).
 */
export async function createServices(
  { env, dataDir }: { env: PicloudEnv; dataDir: string },
  ctx: Pick<ServiceContext, "logger" | "metrics" | "resources">,
  o: ServiceOverrides = {},
): Promise<Services> {
  const { logger, metrics, resources } = ctx;
  const compiler = resources.add("compiler", new CompilerProcess({ logger }), (c) => c.close());
  const changes = new LocalChangeFeed();
  const plane = await openControlPlane({
    env,
    dataDir,
    ceilings: budgetsFromEnv(env).ceilings,
    compile: (source, opts) => compiler.compile(source, opts),
    publish: (n) => changes.publish(n),
    logger,
    resources,
  });
  const executor = resources.add(
    "executor",
    createExecutor({
      mode: env.PICLOUD_EXECUTOR_MODE,
      fetchAllowHosts: env.PICLOUD_FETCH_ALLOW_HOSTS,
      maxRssMb: env.PICLOUD_EXECUTOR_MEMORY_MB,
      syncFastPath: env.PICLOUD_EXECUTOR_SYNC_FAST_PATH,
    }),
    (e) => e.close(),
  );
  const pgSink = new PostgresExecutionLogSink({
    repository: publishingWriter(plane.logs, plane.feed),
    dataDir,
    logger,
  });
  const sink = resources.add("sink", o.sink ? o.sink(pgSink) : pgSink, (k) => k.close());
  const { orchestrator } = createOrchestrator({
    source: new LocalScriptSource(plane.scripts, plane.keys),
    changes,
    executor,
    sink,
    env,
    logger,
    metrics,
  });
  metrics.gauge("picloud_isolates", "Executor isolates.", () => {
    const s = executor.stats();
    return { warm: s.isolatesWarm, busy: s.isolatesBusy, scripts: s.scriptsLoaded, crashes: s.crashes };
  });
  return { ...plane, env, logger, metrics, sink, executor, compiler, orchestrator };
}
