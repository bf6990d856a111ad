import type { ExecutionLog } from "@picloud/shared";
import { describe, expect, it } from "vitest";
import { insertIsolating } from "./isolate-rejected.ts";
import { testLogs } from "./test-support.ts";

class DataError extends Error {}

/** An all-or-nothing store that refuses any batch holding a row marked bad. */
function store(bad: Set<string>) {
  const rows = new Set<string>();
  let calls = 0;
  return {
    rows,
    calls: () => calls,
    insert: async (logs: readonly ExecutionLog[]) => {
      calls++;
      const refused = logs.find((l) => bad.has(l.id));
      if (refused) throw new DataError(`bad row ${refused.id}`);
      let n = 0;
      for (const l of logs) {
        if (rows.has(l.id)) continue;
        rows.add(l.id);
        n++;
      }
      return n;
    },
  };
}

const refusal = (err: unknown) => (err instanceof DataError ? err.message : null);

describe("insertIsolating", () => {
  it("stores a clean batch in one call", async () => {
    const s = store(new Set());
    const logs = testLogs(100);
    expect(await insertIsolating(logs, s.insert, refusal)).toEqual({ inserted: 100, rejected: [] });
    expect(s.calls()).toBe(1);
  });

  it("isolates each refused row by bisection and stores all the others", async () => {
    const logs = testLogs(100);
    const bad = new Set([logs[7]!.id, logs[63]!.id]);
    const s = store(bad);
    const r = await insertIsolating(logs, s.insert, refusal);
    expect(r.rejected).toEqual([
      { index: 7, reason: "refused", message: `bad row ${logs[7]!.id}` },
      { index: 63, reason: "refused", message: `bad row ${logs[63]!.id}` },
    ]);
    expect(r.inserted).toBe(98);
    expect(s.rows.size).toBe(98);
    expect(s.calls()).toBeLessThan(40);
  });

  it("a transient failure is thrown as it is", async () => {
    const boom = new Error("connection reset");
    await expect(insertIsolating(testLogs(3), () => Promise.reject(boom), refusal)).rejects.toBe(boom);
  });

  it("an empty batch asks nothing", async () => {
    const s = store(new Set());
    expect(await insertIsolating([], s.insert, refusal)).toEqual({ inserted: 0, rejected: [] });
    expect(s.calls()).toBe(0);
  });
});
