import type { Budgets, ChangeNotice, ControlPlaneEnv, MinimalLogger, Resources } from "@picloud/shared";
import { AdminAuth } from "./auth/admin-auth.ts";
import { loadOrCreateKey, SecretBox } from "./auth/secret-box.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { ExecutionFeed } from "./events/execution-feed.ts";
import { ExecutionLogsRepository } from "./logs/execution-logs-repository.ts";
import { RetentionJob } from "./logs/retention.ts";
import { InvokeKeys } from "./scripts/invoke-keys.ts";
import { type CompileFn, ScriptService } from "./scripts/script-service.ts";

export interface ControlPlaneOptions {
  env: ControlPlaneEnv & { DATABASE_URL?: string | undefined };
  /** Where the generated encryption key is kept (and PGlite's data, under `pglite/`). */
  dataDir: string;
  /** PostgreSQL pool size. */
  maxConnections?: number;
  ceilings: Budgets;
  /** Compiles saved sources (a `CompilerProcess` in the binaries). */
  compile: CompileFn;
  /** Told about every change of a current version or a delete (in process, or PostgreSQL NOTIFY). */
  publish: (notice: ChangeNotice) => void;
  logger: MinimalLogger;
  /** Where what is opened is registered: a failed step closes what came before. */
  resources: Resources;
}

/** The control plane's services, as the manager API and the cluster routes use them. */
export interface ControlPlane {
  database: Database;
  auth: AdminAuth;
  /** The admin token made on this start, to be printed once; null when it existed. */
  generatedAdminToken: string | null;
  scripts: ScriptService;
  keys: InvokeKeys;
  logs: ExecutionLogsRepository;
  feed: ExecutionFeed;
}

/**
 * Opens the control plane as both the all-in-one and picloud-manager run it: the database
 * (migrated under its lock; closed again if that fails), the admin token, the key for env
 * values, scripts, invoke keys, execution logs with their live feed, and the retention job.
 */
export async function openControlPlane(o: ControlPlaneOptions): Promise<ControlPlane> {
  const { env, resources, logger } = o;
  const database = await resources.open(
    "database",
    () =>
      openDatabase({
        url: env.DATABASE_URL,
        dataDir: `${o.dataDir}/pglite`,
        ...(o.maxConnections ? { maxConnections: o.maxConnections } : {}),
      }),
    (d) => d.close(),
  );
  await database.migrate();
  const { auth, generated } = await AdminAuth.init(database.db, env.PICLOUD_ADMIN_TOKEN);
  const secrets = new SecretBox(loadOrCreateKey(env.PICLOUD_ENCRYPTION_KEY, o.dataDir));
  const scripts = new ScriptService({
    db: database.db,
    compile: o.compile,
    secrets,
    ceilings: o.ceilings,
    publish: o.publish,
  });
  const logs = new ExecutionLogsRepository(database.db);
  const retention = resources.add(
    "retention",
    new RetentionJob({ repository: logs, maxAgeMs: env.PICLOUD_LOG_RETENTION_DAYS * 24 * 3600 * 1000, logger }),
    (r) => r.stop(),
  );
  retention.start();
  return {
    database,
    auth,
    generatedAdminToken: generated,
    scripts,
    keys: new InvokeKeys(database.db),
    logs,
    feed: new ExecutionFeed(),
  };
}
