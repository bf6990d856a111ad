import { describe, expect, it } from "vitest";
import { collectingLogger } from "./test-support.ts";
import { errorSummary, RateLimitedWarning } from "./warnings.ts";

describe("RateLimitedWarning", () => {
  it("logs the first occurrence, then at most one line per interval carrying the count since the last", () => {
    const log = collectingLogger();
    let now = 1_000;
    const w = new RateLimitedWarning({ logger: log, message: "dropped rows", countField: "dropped", now: () => now });
    w.note(1, { reason: "a" });
    w.note(2, { reason: "b" });
    now += 9_999;
    w.note(3, { reason: "c" });
    expect(log.lines).toEqual([{ level: "warn", obj: { dropped: 1, reason: "a" }, msg: "dropped rows" }]);
    now += 1;
    w.note(4, { reason: "d" });
    expect(log.lines[1]).toEqual({ level: "warn", obj: { dropped: 9, reason: "d" }, msg: "dropped rows" });
  });

  it("a forced note goes out at once", () => {
    const log = collectingLogger();
    const w = new RateLimitedWarning({ logger: log, message: "m", countField: "failures", now: () => 0 });
    w.note(1, {});
    w.note(1, {}, true);
    expect(log.lines.map((l) => l.obj)).toEqual([{ failures: 1 }, { failures: 1 }]);
  });

  it("a throwing logger never reaches the caller", () => {
    const bad = {
      info: () => {},
      error: () => {},
      warn: () => {
        throw new Error("logger down");
      },
    };
    const w = new RateLimitedWarning({ logger: bad, message: "m", countField: "n" });
    expect(() => w.note(1, {})).not.toThrow();
  });
});

describe("errorSummary", () => {
  it("names the error, joins its cause's message, and finds a code along the cause chain", () => {
    const inner = Object.assign(new Error("duplicate key"), { code: "23505" });
    const outer = new Error("Failed query", { cause: inner });
    expect(errorSummary(outer)).toEqual({ name: "Error", message: "Failed query: duplicate key", code: "23505" });
    expect(errorSummary("plain")).toEqual({ message: "plain" });
  });
});
