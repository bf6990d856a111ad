import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from "./test-server.ts";

describe("live executions (SSE)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer("postgres");
    await s.createScript("live", `export default (req) => { log.info("seen", { n: 1 }); return "ok"; }`);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("pushes each new execution once it is stored, so the record is readable at once", async () => {
    const res = await fetch(`${s.url}/api/scripts/live/logs/stream`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const nextEvent = async (name: string): Promise<string> => {
      for (;;) {
        const match = new RegExp(`event: ${name}\\ndata: ([^\\n]*)\\n(?:id: [^\\n]*\\n)?\\n`).exec(buffer);
        if (match) {
          buffer = buffer.slice(match.index + match[0].length);
          return match[1] ?? "";
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        buffer += decoder.decode(value, { stream: true });
      }
    };
    await nextEvent("ready");
    const call = await fetch(`${s.url}/api/execute/live`);
    const executionId = call.headers.get("x-picloud-execution-id");
    const event = JSON.parse(await nextEvent("execution")) as { id: string; logCount: number; status: string };
    expect(event).toMatchObject({ id: executionId, status: "success", logCount: 1 });
    const full = await s.admin(`/api/executions/${event.id}`);
    expect(full.status).toBe(200);
    expect((await full.json()).logs[0]).toMatchObject({ level: "info", message: "seen", data: { n: 1 } });
    await reader.cancel();
  });

  it("needs the admin token or session", async () => {
    expect((await fetch(`${s.url}/api/scripts/live/logs/stream`)).status).toBe(401);
  });
});
