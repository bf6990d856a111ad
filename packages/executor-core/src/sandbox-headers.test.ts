import { afterAll, describe, expect, it } from "vitest";
import { InProcessExecutor } from "./in-process-executor.ts";
import { bodyText, run } from "./test-support.ts";

// Headers and URLSearchParams in the sandbox, checked against Node's on the same operations.
function script(): unknown {
  const h = new Headers({ "Content-Type": "text/plain", "X-A": "1" });
  h.append("x-a", "2");
  h.append("Set-Cookie", "a=1");
  h.append("set-cookie", "b=2");
  h.set("X-B", "  padded  ");
  h.append("accept", "a");
  h.delete("ACCEPT");
  const p = new URLSearchParams("a=1&b=x%20y&a=3&c=%F0%9F%98%80&d=+&e");
  p.append("f", "é &=");
  p.set("b", "z");
  p.delete("c");
  p.sort();
  return {
    entries: [...h],
    get: [h.get("x-a"), h.get("content-type"), h.get("missing"), h.get("set-cookie"), h.get("x-b")],
    has: [h.has("X-A"), h.has("accept")],
    cookies: h.getSetCookie(),
    keys: [...h.keys()],
    params: p.toString(),
    all: p.getAll("a"),
    size: p.size,
    pairs: [
      ...new URLSearchParams([
        ["x", "1"],
        ["y", "2"],
      ]),
    ],
  };
}

describe("sandbox Headers and URLSearchParams against Node", () => {
  const ex = new InProcessExecutor();
  afterAll(() => ex.close());

  it("agree on the same operations", async () => {
    const o = await run(ex, `export default ${script.toString().replace(/\): unknown/, ")")}`);
    expect(o.status).toBe("success");
    expect(JSON.parse(bodyText(o))).toEqual(JSON.parse(JSON.stringify(script())));
  });
});
