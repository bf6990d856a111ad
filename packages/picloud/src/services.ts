import { CompilerProcess, createExecutor } from "@picloud/executor-core";
import { createLogger, type Logger, Metrics } from "@picloud/http";
import {
  AdminAuth,
  type Database,
  ExecutionFeed,
  ExecutionLogsRepository,
  InvokeKeys,
  LocalScriptSource,
  loadOrCreateKey,
  openDatabase,
  PostgresExecutionLogSink,
  publishingWriter,
  RetentionJob,
  ScriptService,
  SecretBox,
} from "@picloud/manager-core";
import { Orchestrator, ScriptCache } from "@picloud/orchestrator-core";
import { budgetsFromEnv, type ExecutionLogSink, type Executor, LocalChangeFeed } from "@picloud/shared";
import type { PicloudEnv } from "./env.ts";

/** Everything the all-in-one process runs, built from its configuration. */
export interface Services {
  env: PicloudEnv;
  logger: Logger;
  metrics: Metrics;
  database: Database;
  auth: AdminAuth;
  /** The admin token made on this start, to be printed once; null when it existed. */
  generatedAdminToken: string | null;
  scripts: ScriptService;
  keys: InvokeKeys;
  logs: ExecutionLogsRepository;
  feed: ExecutionFeed;
  sink: ExecutionLogSink;
  executor: Executor;
  /** Compiles saved sources in a supervised child (a source that crashes esbuild is contained). */
  compiler: CompilerProcess;
  orchestrator: Orchestrator;
  /** Flushes the sink and closes executor and database, in that order. */
  close(): Promise<void>;
}

export interface ServiceOverrides {
  /** Replace the sink (tests: a sink that throws; benchmarks: the null sink). */
  sink?: (inner: ExecutionLogSink) => ExecutionLogSink;
  logger?: Logger;
}

export async function createServices(env: PicloudEnv, dataDir: string, o: ServiceOverrides = {}): Promise<Services> {
  const logger =
    o.logger ?? createLogger({ name: "picloud", level: env.PICLOUD_LOG_LEVEL, nodeId: env.PICLOUD_NODE_ID });
  const { defaults, ceilings } = budgetsFromEnv(env);
  const metrics = new Metrics();
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: `${dataDir}/pglite` });
  await database.migrate();
  const { auth, generated } = await AdminAuth.init(database.db, env.PICLOUD_ADMIN_TOKEN);
  const secrets = new SecretBox(loadOrCreateKey(env.PICLOUD_ENCRYPTION_KEY, dataDir));
  const changes = new LocalChangeFeed();
  const compiler = new CompilerProcess({
    onCrash: ({ reason, filename }) => logger.warn({ reason, filename }, "the compiler crashed on a source; restarted"),
  });
  const scripts = new ScriptService({
    db: database.db,
    compile: (source, opts) => compiler.compile(source, opts),
    secrets,
    ceilings,
    publish: (n) => changes.publish(n),
  });
  const keys = new InvokeKeys(database.db);
  const logs = new ExecutionLogsRepository(database.db);
  const feed = new ExecutionFeed();
  const pgSink = new PostgresExecutionLogSink({ repository: publishingWriter(logs, feed), dataDir, logger });
  const sink = o.sink ? o.sink(pgSink) : pgSink;
  const executor = createExecutor({
    mode: env.PICLOUD_EXECUTOR_MODE,
    fetchAllowHosts: env.PICLOUD_FETCH_ALLOW_HOSTS,
    maxRssMb: env.PICLOUD_EXECUTOR_MEMORY_MB,
    syncFastPath: env.PICLOUD_EXECUTOR_SYNC_FAST_PATH,
  });
  const source = new LocalScriptSource(scripts, keys);
  const cache = new ScriptCache({
    source,
    changes,
    onChange: (scriptId, version, name) => {
      executor.evict(scriptId, version ?? undefined);
      // The new version gets its isolate now, so that its first request finds it warm. By
      // name: requests usually name the script, and share this lookup while it runs.
      if (version !== null) void orchestrator.prepare(name);
    },
  });
  const orchestrator = new Orchestrator({
    scripts: cache,
    verifyInvokeKey: (id, key) => source.verifyInvokeKey(id, key),
    executor,
    sink,
    concurrency: { global: env.PICLOUD_MAX_CONCURRENCY, perScript: env.PICLOUD_MAX_CONCURRENCY_PER_SCRIPT },
    defaults,
    ceilings,
    nodeId: env.PICLOUD_NODE_ID,
    logBodyBytes: env.PICLOUD_LOG_BODY_BYTES,
    logger,
    metrics,
  });
  const retention = new RetentionJob({
    repository: logs,
    maxAgeMs: env.PICLOUD_LOG_RETENTION_DAYS * 24 * 3600 * 1000,
    logger,
  });
  retention.start();

  metrics.gauge("picloud_isolates", "Executor isolates.", () => {
    const s = executor.stats();
    return { warm: s.isolatesWarm, busy: s.isolatesBusy, scripts: s.scriptsLoaded, crashes: s.crashes };
  });

  return {
    env,
    logger,
    metrics,
    database,
    auth,
    generatedAdminToken: generated,
    scripts,
    keys,
    logs,
    feed,
    sink,
    executor,
    compiler,
    orchestrator,
    async close() {
      retention.stop();
      await compiler.close();
      await sink.close().catch((err: unknown) => logger.error({ err }, "sink close failed"));
      await executor.close().catch((err: unknown) => logger.error({ err }, "executor close failed"));
      await database.close();
    },
  };
}
