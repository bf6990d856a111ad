/**
 * A start that fails part way closes everything it had opened (issue 12): the sandbox
 * child process and the RPC listener, when the probe port cannot be had.
 */
import { freePort, startOnTakenPort } from "@picloud/testing";
import { describe, expect, it } from "vitest";
import { startExecutor } from "./executor.ts";

describe("picloud-executor: a failed start closes what it opened", () => {
  it("when its probe port is taken: the sandbox child is gone and the RPC port is free again", async () => {
    const rpcPort = await freePort();
    const env = (port: number) => ({
      HOST: "127.0.0.1",
      PORT: String(port),
      PICLOUD_EXECUTOR_LISTEN: `127.0.0.1:${rpcPort}`,
      PICLOUD_EXECUTOR_MODE: "process",
      PICLOUD_LOG_LEVEL: "silent",
    });
    const { closed } = await startOnTakenPort((port, logger) => startExecutor(env(port), { logger }));
    expect(closed).toEqual(["executor", "rpc"]);
    // The RPC listener is closed: the port can be had again.
    const again = await startExecutor(env(await freePort()));
    expect(again.services.rpcAddress).toBe(`127.0.0.1:${rpcPort}`);
    await again.stop();
  });
});
