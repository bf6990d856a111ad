import type { Executor } from "@picloud/shared";
import { afterAll, describe, expect, it } from "vitest";
import { InProcessExecutor } from "./in-process-executor.ts";
import { ProcessExecutor } from "./process-executor.ts";
import { bodyText, expectHealthy, request } from "./test-support.ts";

/**
 * A warm isolate whose last run was quick starts its next run synchronously (Sandbox.run's
 * fast path). These cases turn hostile on the second call, when that path is taken, and
 * must end exactly as on the asynchronous path.
 */
const secondCall = (body: string) =>
  `let n = 0; export default async (req) => { n++; if (n === 1) return "warm"; ${body} }`;

interface Case {
  name: string;
  body: string;
  status: string;
  reason: string;
  check?: (text: string) => void;
  /** Budgets of this case, over the suite's. */
  budgets?: { cpuTimeMs: number; wallTimeMs: number };
}

const cases: Case[] = [
  {
    name: "a plain answer",
    body: `return { n };`,
    status: "success",
    reason: "ok",
    check: (t) => expect(t).toBe('{"n":2}'),
  },
  {
    name: "awaits a timer (host I/O)",
    body: `await new Promise((r) => setTimeout(r, 20)); return "late";`,
    status: "success",
    reason: "ok",
    check: (t) => expect(t).toBe("late"),
  },
  { name: "throws", body: `throw new TypeError("second");`, status: "error", reason: "script_threw" },
  { name: "spins", body: `for (;;) {}`, status: "timeout", reason: "cpu_time" },
  {
    name: "spins after a timer",
    body: `await new Promise((r) => setTimeout(r, 5)); for (;;) {}`,
    status: "timeout",
    reason: "cpu_time",
  },
  { name: "never settles", body: `await new Promise(() => {});`, status: "timeout", reason: "wall_time" },
  {
    name: "exhausts its heap",
    body: `const a = []; for (;;) a.push(new Array(1e5).fill(n));`,
    status: "budget_exceeded",
    reason: "heap",
    // V8's last-resort collections near the heap limit cost CPU, more so on a loaded
    // machine: a roomy CPU budget lets the heap limit, the thing under test, act first.
    budgets: { cpuTimeMs: 3000, wallTimeMs: 6000 },
  },
  { name: "returns something invalid", body: `return () => 1;`, status: "error", reason: "invalid_return" },
];

function suite(label: string, make: () => Executor): void {
  describe(`second call on the synchronous path (${label})`, () => {
    const ex = make();
    afterAll(() => ex.close());
    for (const c of cases) {
      it(c.name, async () => {
        const id = `sync-${c.name.replace(/\W+/g, "-")}`;
        const src = secondCall(c.body);
        const budgets = c.budgets ?? { cpuTimeMs: 200, wallTimeMs: 1000 };
        const first = await ex.invoke(request(src, { id, budgets }));
        expect([first.status, bodyText(first)]).toEqual(["success", "warm"]);
        const second = await ex.invoke(request(src, { id, budgets }));
        expect([second.status, second.reason]).toEqual([c.status, c.reason]);
        c.check?.(bodyText(second));
        await expectHealthy(ex);
      });
    }

    it("keeps logs of a synchronous run", async () => {
      const src = secondCall(`log.info("second", { n }); console.log("plain"); return "ok";`);
      await ex.invoke(request(src, { id: "sync-logs" }));
      const o = await ex.invoke(request(src, { id: "sync-logs" }));
      expect(o.status).toBe("success");
      expect(o.logs.map((l) => l.message)).toEqual(["second", "plain"]);
    });
  });
}

suite("in-process", () => new InProcessExecutor({ syncFastPath: true }));
suite("process", () => new ProcessExecutor({ stdio: "ignore", syncFastPath: true }));

describe("the synchronous fast path is opt-in", () => {
  // A neighbour that turns CPU-bound on its second call: on the synchronous path it holds
  // the executor's thread (and every other invocation) until its CPU budget kills it.
  // Two quick calls first: the first one also compiles the module (more CPU), the second
  // leaves the isolate eligible for the synchronous path; the third spins.
  const hog = `let n = 0; export default () => { n++; if (n < 3) return "warm"; for (;;) {} };`;
  const quick = `export default () => "quick";`;
  const budgets = { cpuTimeMs: 1500, wallTimeMs: 4000 };

  async function order(ex: Executor): Promise<string[]> {
    const done: string[] = [];
    await ex.invoke(request(hog, { id: "hog", budgets }));
    await ex.invoke(request(hog, { id: "hog", budgets }));
    await ex.invoke(request(quick, { id: "quick" }));
    const a = ex.invoke(request(hog, { id: "hog", budgets })).then((o) => done.push(`hog:${o.reason}`));
    await new Promise((r) => setTimeout(r, 100));
    const b = ex.invoke(request(quick, { id: "quick" })).then((o) => done.push(`quick:${o.reason}`));
    await Promise.all([a, b]);
    return done;
  }

  it("off (the default): a CPU-bound neighbour does not hold up another script", async () => {
    const ex = new ProcessExecutor({ stdio: "ignore" });
    try {
      expect(await order(ex)).toEqual(["quick:ok", "hog:cpu_time"]);
    } finally {
      await ex.close();
    }
  });

  it("on: the neighbour waits until the CPU-bound run is killed (the documented trade-off)", async () => {
    const ex = new ProcessExecutor({ stdio: "ignore", syncFastPath: true });
    try {
      expect(await order(ex)).toEqual(["hog:cpu_time", "quick:ok"]);
    } finally {
      await ex.close();
    }
  });
});
