import { describe, expect, it } from "vitest";
import { toJsonLenient } from "./json.ts";

describe("toJsonLenient", () => {
  it("is JSON.stringify for plain values", () => {
    const v = { a: [1, "x", null, true], b: { c: 1.5 } };
    expect(toJsonLenient(v)).toBe(JSON.stringify(v));
  });

  it("replaces BigInts and cycles instead of throwing", () => {
    const data: Record<string, unknown> = { n: 10n };
    data["self"] = data;
    expect(JSON.parse(toJsonLenient({ data }))).toEqual({ data: { n: "10", self: "[Circular]" } });
  });
});
