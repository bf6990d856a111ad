import type { ExecutionLogSink } from "@picloud/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./test-server.ts";

/** A sink that breaks its own contract: write throws, flush rejects. */
const brokenSink = (): ExecutionLogSink => ({
  write() {
    throw new Error("disk on fire");
  },
  flush: () => Promise.reject(new Error("disk on fire")),
  close: () => Promise.resolve(),
  stats: () => ({ buffered: 0, written: 0, failed: 0, dropped: 0, spilled: 0 }),
});

describe("a failing sink never changes the caller's response", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer("postgres", {}, { sink: () => brokenSink() });
    await s.createScript(
      "resilient",
      `export default (req) => Response.json({ ok: true }, { status: 202, headers: { "x-a": "b" } })`,
    );
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("answers exactly as the script said, and counts the failure", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${s.url}/api/execute/resilient`);
      expect(res.status).toBe(202);
      expect(res.headers.get("x-a")).toBe("b");
      expect(await res.json()).toEqual({ ok: true });
    }
    expect(s.running.services.orchestrator.sinkFailures).toBe(3);
    expect(await (await s.admin("/metrics")).text()).toMatch(/picloud_sink_failures_orchestrator_total\{?[^}]*\}? 3/);
  });
});
