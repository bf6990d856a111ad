import { describe, expect, it } from "vitest";
import { withTimeout } from "./deadline.ts";

describe("withTimeout", () => {
  it("passes an answer in time through", async () => {
    await expect(withTimeout(async () => 42, 1000)).resolves.toBe(42);
  });

  it("rejects when there is no answer in time, and a late failure stays quiet", async () => {
    let fail: (e: Error) => void = () => {};
    const late = new Promise<never>((_, reject) => {
      fail = reject;
    });
    await expect(withTimeout(() => late, 20)).rejects.toThrow(/timed out after 20 ms/);
    fail(new Error("too late")); // would fail the run as an unhandled rejection if it were one
    await new Promise((r) => setTimeout(r, 10));
  });

  it("turns a synchronous throw into a rejection", async () => {
    const boom = (): Promise<never> => {
      throw new Error("sync boom");
    };
    await expect(withTimeout(boom, 1000)).rejects.toThrow("sync boom");
  });
});
