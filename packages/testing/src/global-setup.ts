import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS_DIR, openDatabase } from "@picloud/manager-core";
import postgres from "postgres";
import { ensurePostgres } from "./pg-server.ts";
import { testPgUrl, urlFor } from "./postgres.ts";

/**
 * Vitest global setup of the `postgres` project: finds the tests' PostgreSQL (the one at
 * `PICLOUD_TEST_PG_URL`, or 127.0.0.1:5432; when none answers, an embedded one started for
 * this run and stopped by the returned teardown), makes sure a template database with the
 * current migrations exists (named by a hash of the migration files, so a schema change
 * makes a new one), and tells the test workers both. Drops stale test databases of
 * earlier runs.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const server = await ensurePostgres(testPgUrl(), (line) => process.stderr.write(`[picloud] ${line}\n`));
  try {
    process.env["PICLOUD_TEST_PG_URL"] = server.url;
    process.env["PICLOUD_TEST_PG_TEMPLATE"] = await prepareTemplate(server.url);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return () => server.stop();
}

async function prepareTemplate(url: string): Promise<string> {
  const hash = createHash("sha256");
  for (const f of readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    hash.update(f).update(readFileSync(join(MIGRATIONS_DIR, f)));
  }
  const template = `picloud_tpl_${hash.digest("hex").slice(0, 12)}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await admin`select pg_advisory_lock(7066)`;
    const [row] = await admin`select 1 as ok from pg_database where datname = ${template}`;
    if (!row) {
      await admin.unsafe(`create database "${template}"`);
      const db = await openDatabase({ url: urlFor(template, url), maxConnections: 2 });
      try {
        await db.migrate();
      } finally {
        await db.close();
      }
    }
    // Leftovers of interrupted runs older than an hour: per-file databases only. (A LIKE
    // pattern here once matched the templates too, `_` being a wildcard, and dropped the
    // template a parallel run was cloning from.)
    const stale = await admin<{ datname: string }[]>`
      select datname from pg_database
      where datname ~ '^picloud_t_([a-z]+_)?[0-9a-f]{12}$' and (pg_stat_file('base/' || oid || '/PG_VERSION')).modification < now() - interval '1 hour'`.catch(
      () => [],
    );
    for (const { datname } of stale) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    await admin`select pg_advisory_unlock(7066)`;
  } finally {
    await admin.end();
  }
  return template;
}
