import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.ts";

describe("Backoff", () => {
  it("doubles from the base up to the cap, with jitter in [0.5, 1)", () => {
    const full = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6].map(() => Math.round(full.fail(0)))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const half = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0 });
    expect([half.fail(0), half.fail(0)]).toEqual([50, 100]);
  });

  it("waits until the chosen time, and a success resets it", () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0 });
    expect(b.succeed()).toBe(false);
    b.fail(1000);
    expect(b.until).toBe(1050);
    expect(b.waiting(1049)).toBe(true);
    expect(b.waiting(1050)).toBe(false);
    expect(b.failures).toBe(1);
    expect(b.succeed()).toBe(true);
    expect([b.failures, b.until, b.waiting(0)]).toEqual([0, 0, false]);
    expect(b.fail(0)).toBe(50); // back to the base
  });

  it("never overflows after many failures", () => {
    const b = new Backoff({ baseMs: 100, maxMs: 5000, random: () => 0.5 });
    for (let i = 0; i < 200; i++) b.fail(0);
    expect(b.fail(0)).toBe(3750);
  });
});
