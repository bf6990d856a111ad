import { afterAll, describe, expect, it } from "vitest";
import { InProcessExecutor } from "./in-process-executor.ts";
import { bodyText, run } from "./test-support.ts";

// The sandbox's UTF-8 and base64 code, checked against Node's on seeded random inputs.
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}
const rand = rng(42);
const BYTES = Array.from({ length: 300 }, () =>
  Array.from({ length: Math.floor(rand() * 12) }, () =>
    rand() < 0.5 ? 0x80 + Math.floor(rand() * 0x80) : Math.floor(rand() * 256),
  ),
);
const UNITS = [0x41, 0xe9, 0x4e16, 0xd83d, 0xde00, 0xdc00, 0xd800, 0x7f, 0x80, 0x7ff, 0x800, 0xffff];
const STRINGS = Array.from({ length: 200 }, () =>
  String.fromCharCode(
    ...Array.from({ length: Math.floor(rand() * 8) }, () => UNITS[Math.floor(rand() * UNITS.length)] ?? 0x41),
  ),
);

describe("sandbox encodings against Node", () => {
  const ex = new InProcessExecutor();
  afterAll(() => ex.close());

  it("TextDecoder, TextEncoder, btoa and atob agree", async () => {
    const src = `export default () => {
      const bytes = ${JSON.stringify(BYTES)};
      const strings = ${JSON.stringify(STRINGS)};
      return {
        decoded: bytes.map((b) => new TextDecoder().decode(new Uint8Array(b))),
        encoded: strings.map((s) => Array.from(new TextEncoder().encode(s))),
        b64: bytes.map((b) => btoa(String.fromCharCode(...b))),
        back: bytes.map((b) => atob(btoa(String.fromCharCode(...b))) === String.fromCharCode(...b)),
      };
    }`;
    const o = await run(ex, src, { budgets: { cpuTimeMs: 2000, wallTimeMs: 4000 } });
    const got = JSON.parse(bodyText(o));
    expect(got.decoded).toEqual(BYTES.map((b) => new TextDecoder().decode(new Uint8Array(b))));
    expect(got.encoded).toEqual(STRINGS.map((s) => Array.from(new TextEncoder().encode(s))));
    expect(got.b64).toEqual(BYTES.map((b) => Buffer.from(b).toString("base64")));
    expect(got.back.every(Boolean)).toBe(true);
  });
});
