import { randomBytes } from "node:crypto";
import postgres from "postgres";

/** Where the tests look for PostgreSQL first (trust auth on loopback by default). */
export const DEFAULT_TEST_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * Admin URL of the tests' PostgreSQL. In test workers the global setup has set
 * `PICLOUD_TEST_PG_URL` to the server it found or started; read it when needed, not at
 * import, since the global setup itself imports this module before it knows.
 */
export function testPgUrl(): string {
  return process.env["PICLOUD_TEST_PG_URL"] || DEFAULT_TEST_PG_URL;
}

/** Name of the migrated template database, set by the global setup. */
export function templateName(): string {
  const name = process.env["PICLOUD_TEST_PG_TEMPLATE"];
  if (!name) {
    throw new Error(
      "PICLOUD_TEST_PG_TEMPLATE is not set: this test needs PostgreSQL, so its package belongs in the `postgres` project of vitest.config.ts",
    );
  }
  return name;
}

export function urlFor(database: string, base: string = testPgUrl()): string {
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
  const admin = postgres(testPgUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}" template "${templateName()}"`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: urlFor(name),
    async drop() {
      const a = postgres(testPgUrl(), { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}
