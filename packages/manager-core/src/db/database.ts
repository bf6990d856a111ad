import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema.ts";

/** The drizzle database, whichever driver is behind it. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export type DriverName = "postgres" | "pglite";

/** An open database plus what the manager needs around it. */
export interface Database {
  db: Db;
  driver: DriverName;
  /** Cheap liveness check for /ready: resolves true when a query round-trips. */
  ping(timeoutMs?: number): Promise<boolean>;
  /** Applies migrations under an advisory lock (idempotent; safe with concurrent starts). */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A postgres:// URL; when absent an embedded PGlite in `dataDir` is used. */
  url?: string | undefined;
  /** PGlite data directory (created if missing); `memory://` for an in-memory one. */
  dataDir?: string | undefined;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
}

/** Where drizzle-kit writes migrations (repo root `migrations/`). */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../../../migrations", import.meta.url));

/** A constant key for pg_advisory_lock: "picloud" packed into a bigint. */
const MIGRATION_LOCK_KEY = 0x7069636c6f7564n;

/** Opens PostgreSQL (when `url` is set) or embedded PGlite. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.url ? openPostgres(opts.url, opts.maxConnections ?? 10) : openPglite(opts.dataDir ?? "memory://");
}

async function openPostgres(url: string, max: number): Promise<Database> {
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const { migrate } = await import("drizzle-orm/postgres-js/migrator");
  const client = postgres(url, {
    max,
    onnotice: () => {},
    // Keep connection errors from surfacing as unhandled; callers see failed queries.
    connect_timeout: 5,
    idle_timeout: 30,
  });
  const db: Db = drizzle(client, { schema });
  return {
    db,
    driver: "postgres",
    ping: (timeoutMs = 2000) => pingWith(() => client`select 1`, timeoutMs),
    async migrate() {
      // A dedicated connection holds the lock while the pool runs the migrations, so a
      // second process starting at the same time waits and then finds them applied.
      const lockConn = await client.reserve();
      try {
        await lockConn`select pg_advisory_lock(${MIGRATION_LOCK_KEY.toString()}::bigint)`;
        await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_DIR });
      } finally {
        await lockConn`select pg_advisory_unlock(${MIGRATION_LOCK_KEY.toString()}::bigint)`.catch(() => {});
        lockConn.release();
      }
    },
    close: () => client.end({ timeout: 5 }),
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir);
  const db: Db = drizzle(client, { schema });
  return {
    db,
    driver: "pglite",
    ping: (timeoutMs = 2000) => pingWith(() => client.query("select 1"), timeoutMs),
    async migrate() {
      // PGlite is single-connection and its data directory belongs to one process.
      await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_DIR });
    },
    close: () => client.close(),
  };
}

async function pingWith(query: () => PromiseLike<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve(query()).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs raw SQL (used by tests and EXPLAIN checks). */
export async function rawQuery<T = Record<string, unknown>>(db: Db, query: string): Promise<T[]> {
  return resultRows<T>(await db.execute(sql.raw(query)));
}

/**
 * The rows of `db.execute`'s answer, whichever driver gave it: postgres-js answers an array
 * of rows, PGlite an object with `rows`. `T` is what the query selects (unchecked).
 */
export function resultRows<T>(res: unknown): T[] {
  if (Array.isArray(res)) return res;
  const rows = typeof res === "object" && res !== null && "rows" in res ? res.rows : undefined;
  return Array.isArray(rows) ? rows : [];
}
