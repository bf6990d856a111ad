/**
 * A start that fails part way closes everything it had opened (issue 12): the sandbox
 * child process and the RPC listener, when the probe port cannot be had.
 */
import {
  childPids,
  closedAfterFailedStart,
  eventually,
  freePort,
  occupiedPort,
  recordingLogger,
} from "@picloud/testing";
import { describe, expect, it } from "vitest";
import { startExecutor } from "./executor.ts";

describe("picloud-executor: a failed start closes what it opened", () => {
  it("when its probe port is taken: the sandbox child is gone and the RPC port is free again", async () => {
    const taken = await occupiedPort();
    const rpcPort = await freePort();
    const children = childPids();
    const { logger, lines } = recordingLogger();
    try {
      const env = {
        HOST: "127.0.0.1",
        PORT: String(taken.port),
        PICLOUD_EXECUTOR_LISTEN: `127.0.0.1:${rpcPort}`,
        PICLOUD_EXECUTOR_MODE: "process",
      };
      await expect(startExecutor(env, { logger })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await taken.close();
    }
    expect(closedAfterFailedStart(lines)).toEqual(["executor", "rpc"]);
    await eventually(() => childPids().join() === children.join(), 10_000, "no child process left");
    // The RPC listener is closed: the port can be had again.
    const again = await startExecutor(
      { HOST: "127.0.0.1", PORT: String(await freePort()), PICLOUD_EXECUTOR_LISTEN: `127.0.0.1:${rpcPort}` },
      { logger },
    );
    expect(again.services.rpcAddress).toBe(`127.0.0.1:${rpcPort}`);
    await again.stop();
  });
});
