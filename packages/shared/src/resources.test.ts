import { describe, expect, it } from "vitest";
import { Resources } from "./resources.ts";

describe("Resources", () => {
  it("closes newest first; a close that fails is logged and the others still close", async () => {
    const closed: string[] = [];
    const logged: object[] = [];
    const r = new Resources({ info: () => {}, warn: () => {}, error: (obj) => logged.push(obj) });
    r.add("a", 1, () => void closed.push("a"));
    await r.open(
      "b",
      async () => 2,
      async () => {
        closed.push("b");
        throw new Error("b would not close");
      },
    );
    r.add("c", 3, () => void closed.push("c"));
    expect(r.names).toEqual(["a", "b", "c"]);
    expect(await r.closeAll()).toEqual(["b"]);
    expect(closed).toEqual(["c", "b", "a"]);
    expect(logged).toHaveLength(1);
    expect(r.names).toEqual([]);
    expect(await r.closeAll()).toEqual([]); // nothing is closed twice
  });

  it("registers nothing when opening fails", async () => {
    const r = new Resources();
    await expect(
      r.open(
        "x",
        () => Promise.reject(new Error("no")),
        () => {},
      ),
    ).rejects.toThrow("no");
    expect(r.names).toEqual([]);
  });
});
