import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startPicloud } from "./start.ts";
import { eventually, freePort, TEST_ADMIN_TOKEN } from "./test-server.ts";

const BIN = fileURLToPath(new URL("./bin.ts", import.meta.url));

describe("start-up", () => {
  it("a bad setting stops start-up with one line naming the variable", () => {
    const r = spawnSync(process.execPath, [BIN], {
      env: { ...process.env, PORT: "eighty", PICLOUD_LOG_LEVEL: "loud" },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/PORT: must be a whole number \(got "eighty"\)/);
    expect(r.stderr).toMatch(/PICLOUD_LOG_LEVEL: .*\(got "loud"\)/);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace for a configuration error
  });

  it("the embedded database keeps scripts across restarts; the admin token is generated once", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "picloud-restart-"));
    const env = { HOST: "127.0.0.1", PICLOUD_DATA_DIR: dataDir, PICLOUD_LOG_LEVEL: "silent" };
    try {
      const first = await startPicloud({ ...env, PORT: String(await freePort()) });
      const token = first.services.generatedAdminToken;
      expect(token).toMatch(/^pc_admin_/);
      const res = await fetch(`${first.listening.url}/api/scripts`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "persisted", source: `export default () => "still here"` }),
      });
      expect(res.status).toBe(201);
      expect(await (await fetch(`${first.listening.url}/api/execute/persisted`)).text()).toBe("still here");
      await first.stop();

      const second = await startPicloud({ ...env, PORT: String(await freePort()), PICLOUD_UNKNOWN_THING: "1" });
      try {
        expect(second.services.generatedAdminToken).toBeNull();
        expect(await (await fetch(`${second.listening.url}/api/execute/persisted`)).text()).toBe("still here");
        // One run before the restart, one after (the sink writes in the background).
        await eventually(async () => {
          const logs = await fetch(`${second.listening.url}/api/scripts/persisted/logs`, {
            headers: { authorization: `Bearer ${token}` },
          });
          return ((await logs.json()) as { items: unknown[] }).items.length === 2;
        });
        expect(second.services.auth.verifyToken(TEST_ADMIN_TOKEN)).toBe(false);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 40_000);
});

describe("drain", () => {
  it("an open live-log stream does not hold up a graceful stop", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "picloud-drain-"));
    const running = await startPicloud({
      HOST: "127.0.0.1",
      PORT: String(await freePort()),
      PICLOUD_DATA_DIR: dataDir,
      PICLOUD_LOG_LEVEL: "silent",
      PICLOUD_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      PICLOUD_SHUTDOWN_TIMEOUT_MS: "60000",
    });
    try {
      const base = running.listening.url;
      const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
      await fetch(`${base}/api/scripts`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ name: "streamed", source: `export default () => "ok"` }),
      });
      const stream = await fetch(`${base}/api/scripts/streamed/logs/stream`, { headers: auth });
      expect(stream.headers.get("content-type")).toMatch(/text\/event-stream/);
      const reader = stream.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      expect(first).toMatch(/event: ready/);
      // The drain deadline (60 s) is past the test's timeout: stop() returns in time only if
      // the server ends the stream itself, and then the stream ends cleanly, not cut.
      const ended = (async () => {
        for (;;) if ((await reader.read()).done) return "ended";
      })().catch(() => "cut");
      await running.stop();
      expect(await ended).toBe("ended");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 40_000);
});
