import { afterAll, describe, expect, it } from "vitest";
import { InProcessExecutor } from "./in-process-executor.ts";
import { bodyText, run } from "./test-support.ts";

// The sandbox's own URL parser, checked against Node's WHATWG URL on the same inputs.
const CASES: [string, string?][] = [
  ["https://example.com"],
  ["HTTP://EXAMPLE.com:80/a/../b/./c?x=1#y"],
  ["https://a.com/a b?q=a b#f g"],
  ["https://a.com/%7Efoo"],
  ["mailto:someone@example.com"],
  ["data:text/plain,hello"],
  ["file:///etc/passwd"],
  ["file://host/share/x"],
  ["/x/y?z", "https://a.com/b/c"],
  ["../x", "https://a.com/b/c/d"],
  ["?q=1", "https://a.com/b?x"],
  ["#h", "https://a.com/b?x"],
  ["//other.com/p", "https://a.com/"],
  ["x", "https://a.com/dir/"],
  ["", "https://a.com/dir/f?q#h"],
  ["x?y", "https://a.com/p?z#w"],
  ["https://user:p%40ss@a.com/"],
  ["https://a.com:8443/x"],
  ["http://[::1]:8080/"],
  ["https://a.com/?a=1&b=2&a=3"],
  ["https://a.com/é"],
  ["https://a.com/?q=é&r=%20"],
  ["https://a.com\\path\\x"],
  ["https://a.com/a/%2e%2E/b"],
  ["http://a.com:/"],
  ["https://a.com/..//x"],
  ["urn:isbn:0451450523"],
  ["https://a.com/p?#"],
  ["http://a.com/?x='y'"],
  ["foo://bar/baz?q"],
  ["not a url"],
  ["https://"],
];

const view = (u: string, b?: string): unknown => {
  try {
    const x = new URL(u, b);
    return [x.href, x.origin, x.host, x.pathname, x.search, x.hash, [...x.searchParams].join("|")];
  } catch {
    return "ERR";
  }
};

describe("sandbox URL against Node's URL", () => {
  const ex = new InProcessExecutor();
  afterAll(() => ex.close());

  it("agrees on every case", async () => {
    const src = `const view = ${view.toString().replace(/: string|\?: string|: unknown/g, "")};
      export default () => (${JSON.stringify(CASES)}).map(([u, b]) => view(u, b ?? undefined));`;
    const o = await run(ex, src);
    expect(o.status).toBe("success");
    expect(JSON.parse(bodyText(o))).toEqual(CASES.map(([u, b]) => view(u, b)));
  });
});
