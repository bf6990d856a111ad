import { LocalChangeFeed, PiCloudError, type ResolvedScript, type ScriptSourceProvider } from "@picloud/shared";
import { describe, expect, it } from "vitest";
import { ScriptCache } from "./script-cache.ts";

function script(version: number): ResolvedScript {
  return { id: "s1", name: "hello", version, code: "", visibility: "public", limits: {}, env: {} };
}

/** A source whose answer and reachability the test controls. */
class FlakySource implements ScriptSourceProvider {
  current: ResolvedScript | null = script(1);
  down = false;
  calls = 0;
  async getCurrent(): Promise<ResolvedScript | null> {
    this.calls++;
    if (this.down) throw new PiCloudError("service_unavailable", "control plane unreachable");
    return this.current;
  }
  async verifyInvokeKey(): Promise<boolean> {
    return false;
  }
}

describe("ScriptCache when the source fails", () => {
  it("serves an expired entry while the source is down, and asks again only after retryMs", async () => {
    const source = new FlakySource();
    const cache = new ScriptCache({ source, ttlMs: 0, retryMs: 60_000 });
    expect((await cache.get("hello"))?.version).toBe(1);
    source.down = true;
    expect((await cache.get("hello"))?.version).toBe(1);
    expect(cache.staleServed).toBe(1);
    const calls = source.calls;
    expect((await cache.get("s1"))?.version).toBe(1); // fresh again for retryMs: no new call
    expect(source.calls).toBe(calls);
  });

  it("never serves stale what a notice dropped, and fails when nothing was cached", async () => {
    const source = new FlakySource();
    const changes = new LocalChangeFeed();
    const cache = new ScriptCache({ source, changes, ttlMs: 60_000 });
    await cache.get("hello");
    changes.publish({ kind: "deleted", scriptId: "s1", name: "hello", version: null });
    source.down = true;
    await expect(cache.get("hello")).rejects.toThrow(/unreachable/);
  });

  it("invalidateAll makes the next lookup ask the source but keeps entries as a fallback", async () => {
    const source = new FlakySource();
    const cache = new ScriptCache({ source, ttlMs: 60_000 });
    await cache.get("hello");
    source.current = script(2);
    expect((await cache.get("hello"))?.version).toBe(1); // fresh: cached
    cache.invalidateAll();
    expect((await cache.get("hello"))?.version).toBe(2);
    cache.invalidateAll();
    source.down = true;
    expect((await cache.get("hello"))?.version).toBe(2);
    source.down = false;
    source.current = null; // deleted while we were away
    cache.invalidateAll();
    expect(await cache.get("hello")).toBeNull();
    source.down = true;
    await expect(cache.get("hello")).rejects.toThrow();
  });

  it("a late notice for the version already cached keeps the entry (it can still be served stale)", async () => {
    const source = new FlakySource();
    const changes = new LocalChangeFeed();
    const cache = new ScriptCache({ source, changes, ttlMs: 0 });
    await cache.get("hello"); // v1 fetched before its "updated" notice arrives
    changes.publish({ kind: "updated", scriptId: "s1", name: "hello", version: 1 });
    source.down = true;
    expect((await cache.get("hello"))?.version).toBe(1);
    // A newer version drops it: an outdated script is not served, even stale.
    changes.publish({ kind: "updated", scriptId: "s1", name: "hello", version: 2 });
    await expect(cache.get("hello")).rejects.toThrow(/unreachable/);
  });
});
