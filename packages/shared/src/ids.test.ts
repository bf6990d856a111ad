import { describe, expect, it } from "vitest";
import { isUuid, uuidv7, uuidv7Time } from "./ids.ts";

describe("uuidv7", () => {
  it("is a v7 UUID carrying its millisecond", () => {
    const id = uuidv7(1_700_000_000_123);
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe("7");
    expect(uuidv7Time(id)).toBe(1_700_000_000_123);
  });

  it("sorts by creation, also within one millisecond", () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7(1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
