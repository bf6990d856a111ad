import { randomBytes } from "node:crypto";
import postgres from "postgres";

/** Admin URL of the test PostgreSQL (trust auth on loopback by default). */
export const TEST_PG_URL = process.env["PICLOUD_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** Name of the migrated template database, set by the global setup. */
export function templateName(): string {
  const name = process.env["PICLOUD_TEST_PG_TEMPLATE"];
  if (!name) throw new Error("PICLOUD_TEST_PG_TEMPLATE is not set: run tests through vitest (global setup)");
  return name;
}

export function urlFor(database: string, base: string = TEST_PG_URL): string {
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database (terminating its connections). */
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file, cloned from the template in one
 * statement (as trigger.dev does): real PostgreSQL, never a mock.
 */
export async function createTestDatabase(prefix = "picloud_t"): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = postgres(TEST_PG_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}" template "${templateName()}"`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: urlFor(name),
    async drop() {
      const a = postgres(TEST_PG_URL, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}
