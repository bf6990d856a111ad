import { randomUUID } from "node:crypto";
import { RowsRejectedError } from "@picloud/shared";
import { createTestDatabase, makeLog, type TestDatabase } from "@picloud/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase, rawQuery } from "../db/database.ts";
import { ExecutionLogsRepository } from "../logs/execution-logs-repository.ts";
import { PostgresLogWriter } from "./postgres-log-writer.ts";

let tdb: TestDatabase;
let database: Database;
let writer: PostgresLogWriter;

beforeAll(async () => {
  tdb = await createTestDatabase();
  database = await openDatabase({ url: tdb.url, maxConnections: 2 });
  writer = new PostgresLogWriter(new ExecutionLogsRepository(database.db));
});
afterAll(async () => {
  await database?.close();
  await tdb?.drop();
});

function rows(n: number, scriptId: string) {
  return Array.from({ length: n }, (_, i) => makeLog({ scriptId, ms: Date.now() + i }));
}

async function stored(scriptId: string): Promise<number> {
  const [r] = await rawQuery<{ n: number }>(
    database.db,
    `select count(*)::int as n from execution_logs where script_id = '${scriptId}'`,
  );
  return Number(r?.n ?? 0);
}

describe("PostgresLogWriter", () => {
  it("stores a batch idempotently by id", async () => {
    const scriptId = randomUUID();
    const batch = rows(10, scriptId);
    expect(await writer.writeBatch(batch)).toBe(10);
    expect(await writer.writeBatch(batch)).toBe(0);
    expect(await stored(scriptId)).toBe(10);
  });

  it("names the rows PostgreSQL refuses as data (RowsRejectedError, reason refused) and stores the others", async () => {
    const scriptId = randomUUID();
    const batch = rows(12, scriptId);
    batch[2] = { ...batch[2]!, id: "not-a-uuid" }; // 22P02
    batch[9] = { ...batch[9]!, createdAt: "the day after tomorrow" }; // 22007
    const err = await writer.writeBatch(batch).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RowsRejectedError);
    const rejected = (err as RowsRejectedError).rejected;
    expect(rejected.map((r) => [r.index, r.reason])).toEqual([
      [2, "refused"],
      [9, "refused"],
    ]);
    expect(rejected[0]?.message).toMatch(/^SQLSTATE 22P02/);
    expect((err as RowsRejectedError).inserted).toBe(10);
    expect(await stored(scriptId)).toBe(10);
  });

  it("a database it cannot reach is a transient error, not a rejection", async () => {
    const closed = await openDatabase({ url: tdb.url, maxConnections: 1 });
    await closed.close();
    const err = await new PostgresLogWriter(new ExecutionLogsRepository(closed.db))
      .writeBatch(rows(2, randomUUID()))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(RowsRejectedError);
  });
});
