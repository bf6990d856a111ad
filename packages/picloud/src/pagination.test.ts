import { makeLog } from "@picloud/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./test-server.ts";

interface Page {
  items: { id: string; status: string }[];
  nextCursor: string | null;
}

describe("logs API pagination through HTTP", () => {
  let s: TestServer;
  let scriptId: string;
  const base = Date.now() - 3_600_000;
  beforeAll(async () => {
    s = await startTestServer("postgres");
    scriptId = String((await s.createScript("paged", `export default () => "ok"`))["id"]);
    // 250 rows one second apart, every 5th an error: inserted through the repository (fast).
    const rows = Array.from({ length: 250 }, (_, i) =>
      makeLog({ scriptId, scriptName: "paged", ms: base + i * 1000, status: i % 5 === 0 ? "error" : "success" }),
    );
    await s.running.services.logs.insertBatch(rows);
  });
  afterAll(async () => {
    await s?.stop();
  });
  const page = async (q: string): Promise<Page> => {
    const res = await s.admin(`/api/scripts/paged/logs${q}`);
    expect(res.status, q).toBe(200);
    return (await res.json()) as Page;
  };

  it("limit 0, 1, default, 200 and 201 (clamped)", async () => {
    expect((await page("?limit=0")).items).toHaveLength(0);
    expect((await page("?limit=1")).items).toHaveLength(1);
    expect((await page("")).items).toHaveLength(50);
    expect((await page("?limit=200")).items).toHaveLength(200);
    expect((await page("?limit=201")).items).toHaveLength(200);
    const bad = await s.admin("/api/scripts/paged/logs?limit=-1");
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toBe("bad_request");
  });

  it("newest first; offset pages line up; offset past the end is empty", async () => {
    const all = (await page("?limit=200")).items.map((i) => i.id);
    expect([...all].sort().reverse()).toEqual(all);
    const second = (await page("?limit=50&offset=50")).items.map((i) => i.id);
    expect(second).toEqual(all.slice(50, 100));
    const past = await page("?offset=10000");
    expect(past.items).toEqual([]);
    expect(past.nextCursor).toBeNull();
  });

  it("status, since and until filters", async () => {
    const errors = await page("?status=error&limit=200");
    expect(errors.items).toHaveLength(50);
    expect(errors.items.every((i) => i.status === "error")).toBe(true);
    const since = new Date(base + 240 * 1000).toISOString();
    expect((await page(`?since=${since}&limit=200`)).items).toHaveLength(10);
    const until = new Date(base + 10 * 1000).toISOString();
    expect((await page(`?until=${until}&limit=200`)).items).toHaveLength(10);
    expect((await s.admin("/api/scripts/paged/logs?status=weird")).status).toBe(400);
  });

  it("the cursor walks every row once, stable while new rows arrive", async () => {
    const seen: string[] = [];
    let p = await page("?limit=60");
    seen.push(...p.items.map((i) => i.id));
    // New executions arrive between pages: they are newer, so the cursor is unaffected.
    for (let i = 0; i < 5; i++) expect((await fetch(`${s.url}/api/execute/paged`)).status).toBe(200);
    while (p.nextCursor) {
      p = await page(`?limit=60&cursor=${encodeURIComponent(p.nextCursor)}`);
      seen.push(...p.items.map((i) => i.id));
    }
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    expect((await s.admin("/api/scripts/paged/logs?cursor=garbage!")).status).toBe(400);
  });

  it("a single execution has its logs; an unknown one is 404", async () => {
    const first = (await page("?limit=200")).items.find((i) => (i as { logCount?: number }).logCount);
    const full = await (await s.admin(`/api/executions/${first?.id}`)).json();
    expect(full.logs.length).toBeGreaterThan(0);
    expect((await s.admin("/api/executions/00000000-0000-7000-8000-000000000000")).status).toBe(404);
  });
});
