import postgres from "postgres";
import { expect, it } from "vitest";
import { createTestDatabase } from "../src/postgres.ts";

// Run by src/global-setup.test.ts through test/vitest.fixture.config.ts, never by the suite.

it("gets a migrated database from the global setup's server", async () => {
  const db = await createTestDatabase();
  const sql = postgres(db.url, { max: 1 });
  try {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from scripts`;
    expect(row?.n).toBe(0);
  } finally {
    await sql.end();
    await db.drop();
  }
});

it("fails on purpose, so the run must exit non-zero", () => {
  expect(1).toBe(2);
});
