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
  }, 60_000);
});
