import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./test-server.ts";

describe("concurrency gate and metrics", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer("postgres", { PICLOUD_MAX_CONCURRENCY_PER_SCRIPT: "1" });
    await s.createScript("slow", `export default () => new Promise((r) => setTimeout(() => r("done"), 400))`);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("sheds overflow at once with 503 and Retry-After, counted in /metrics", async () => {
    const first = fetch(`${s.url}/api/execute/slow`);
    await new Promise((r) => setTimeout(r, 100));
    const second = await fetch(`${s.url}/api/execute/slow`);
    expect(second.status).toBe(503);
    expect(second.headers.get("retry-after")).toBe("1");
    expect(await second.json()).toMatchObject({ error: "service_unavailable" });
    expect((await first).status).toBe(200);

    const metrics = await (await s.admin("/metrics")).text();
    expect(metrics).toMatch(/picloud_gate_rejections_total\{scope="script"\} 1/);
    expect(metrics).toMatch(/picloud_invocations_total\{script="slow",status="success"\} 1/);
    expect(metrics).toMatch(/picloud_invocation_duration_seconds_bucket/);
    expect(metrics).toMatch(/picloud_sink_rows\{kind="written"\}/);
    expect(metrics).toMatch(/picloud_isolates\{kind="warm"\}/);
  });
});
