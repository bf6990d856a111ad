/**
 * A start that fails part way closes everything it had opened (issue 12): the change
 * stream to the manager, the executor connection, the sink. Checked from outside, by a
 * stand-in manager and executor that count the connections the orchestrator holds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, startOnTakenPort } from "@picloud/testing";
import { describe, expect, it } from "vitest";
import { startOrchestrator } from "./orchestrator.ts";

/** Open sockets of a server, and how many it ever accepted. */
function tracked(): { open: Set<Socket>; seen: { n: number }; track: (s: Socket) => void } {
  const open = new Set<Socket>();
  const seen = { n: 0 };
  return {
    open,
    seen,
    track: (s) => {
      seen.n++;
      open.add(s);
      s.on("close", () => open.delete(s));
    },
  };
}

async function listening(server: {
  listen: (port: number, host: string, cb: () => void) => unknown;
  address: () => unknown;
}) {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const a = server.address();
  return typeof a === "object" && a && "port" in a ? Number(a.port) : 0;
}

describe("picloud-orchestrator: a failed start closes what it opened", () => {
  it("when its port is taken: no connection to the manager or the executor is left", async () => {
    const managerSockets = tracked();
    // A manager whose change stream stays open (as the real one does).
    const manager = createHttpServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("event: ready\ndata: {}\n\n");
    });
    manager.on("connection", managerSockets.track);
    const executorSockets = tracked();
    const executor = createServer(executorSockets.track);
    const managerPort = await listening(manager);
    const executorPort = await listening(executor);
    const dataDir = mkdtempSync(join(tmpdir(), "picloud-orch-failed-"));
    try {
      const env = (port: number) => ({
        HOST: "127.0.0.1",
        PORT: String(port),
        PICLOUD_MANAGER_URL: `http://127.0.0.1:${managerPort}`,
        PICLOUD_CLUSTER_TOKEN: "cluster-token-for-tests-0123456789abcdef",
        PICLOUD_EXECUTOR_ADDRESS: `127.0.0.1:${executorPort}`,
        PICLOUD_DATA_DIR: dataDir,
      });
      const { closed } = await startOnTakenPort((port, logger) => startOrchestrator(env(port), { logger }));
      expect(closed).toEqual(["executor connection", "change stream", "sink"]);
      await eventually(() => managerSockets.open.size === 0, 10_000, "no connection to the manager left");
      await eventually(() => executorSockets.open.size === 0, 10_000, "no connection to the executor left");
    } finally {
      manager.closeAllConnections();
      for (const s of executorSockets.open) s.destroy();
      await new Promise((r) => manager.close(r));
      await new Promise((r) => executor.close(r));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
