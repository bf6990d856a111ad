import type { ChangeNotice } from "@picloud/shared";
import { createTestDatabase, TcpProxy, type TestDatabase } from "@picloud/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgChangeFeed } from "./pg-change-feed.ts";

async function until<T>(what: string, check: () => T | undefined | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const notice = (scriptId: string, version: number): ChangeNotice => ({
  kind: "updated",
  scriptId,
  name: `s-${scriptId}`,
  version,
});

describe("PgChangeFeed (LISTEN/NOTIFY)", () => {
  it("delivers notices published by any feed on the database to every feed's subscribers", async () => {
    const a = new PgChangeFeed({ url: db.url });
    const b = new PgChangeFeed({ url: db.url });
    await a.start();
    await b.start();
    try {
      const seenA: ChangeNotice[] = [];
      const seenB: ChangeNotice[] = [];
      a.subscribe((n) => seenA.push(n));
      b.subscribe((n) => seenB.push(n));
      await a.publish(notice("one", 1));
      await b.publish(notice("two", 2));
      await until("both notices on both feeds", () => seenA.length === 2 && seenB.length === 2);
      expect(seenB).toEqual([notice("one", 1), notice("two", 2)]);
      expect(a.stats()).toMatchObject({ published: 1, publishFailures: 0 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("re-subscribes after its connection is cut, tells onResync, and delivers again", async () => {
    const u = new URL(db.url);
    const proxy = new TcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
    await proxy.start();
    u.port = String(proxy.port);
    const feed = new PgChangeFeed({ url: u.toString() });
    const direct = new PgChangeFeed({ url: db.url });
    await feed.start();
    await direct.start();
    try {
      const seen: ChangeNotice[] = [];
      let resyncs = 0;
      feed.subscribe((n) => seen.push(n));
      feed.onResync(() => resyncs++);
      await direct.publish(notice("before", 1));
      await until("first notice", () => seen.length === 1);
      await proxy.stop(); // LISTEN connection gone; notices now are missed
      await direct.publish(notice("missed", 1));
      // While the feed cannot reach PostgreSQL, its own publish still reaches its subscribers.
      await feed.publish(notice("local", 1));
      expect(seen.map((n) => n.scriptId)).toEqual(["before", "local"]);
      expect(feed.stats().publishFailures).toBe(1);
      await proxy.start();
      await until("resync after reconnect", () => resyncs > 0);
      await direct.publish(notice("after", 2));
      await until("notice after reconnect", () => seen.some((n) => n.scriptId === "after"));
      expect(seen.map((n) => n.scriptId)).not.toContain("missed");
    } finally {
      await feed.close();
      await direct.close();
      await proxy.stop();
    }
  }, 40_000);
});
