import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readLines, toLine } from "./ndjson.ts";
import { tempDirs, testLog, testLogs } from "./test-support.ts";

const tempDir = tempDirs("picloud-ndjson-");

async function file(text: string): Promise<string> {
  const d = await tempDir();
  const p = join(d, "f.ndjson");
  await writeFile(p, text);
  return p;
}

describe("NDJSON rows", () => {
  it("reads batches from an offset, and the offset after the last line read", async () => {
    const rows = testLogs(5);
    const path = await file(rows.map(toLine).join(""));
    const first = await readLines(path, 0, 3);
    expect(first.logs.map((l) => l.id)).toEqual(rows.slice(0, 3).map((l) => l.id));
    expect(first.bad).toBe(0);
    const rest = await readLines(path, first.next, 3);
    expect(rest.logs.map((l) => l.id)).toEqual(rows.slice(3).map((l) => l.id));
    const end = await readLines(path, rest.next, 3);
    expect(end).toEqual({ logs: [], next: rest.next, bad: 0 });
  });

  it("counts unreadable lines, and uses a torn last line only if it parses", async () => {
    const good = testLog();
    const path = await file(`${toLine(good)}not json\n42\n\n${JSON.stringify(testLog()).slice(0, 20)}`);
    const a = await readLines(path, 0, 10);
    expect(a.logs.map((l) => l.id)).toEqual([good.id]);
    expect(a.bad).toBe(2);
    const b = await readLines(path, a.next, 10);
    expect([b.logs.length, b.bad]).toEqual([0, 1]);
    const whole = await file(JSON.stringify(good)); // complete, only the newline missing
    expect((await readLines(whole, 0, 10)).logs.map((l) => l.id)).toEqual([good.id]);
  });

  it("reads a line longer than its first buffer", async () => {
    const big = testLog({ logs: [{ level: "info", message: "x".repeat(3 * 1024 * 1024), ts: 1 }] });
    const path = await file(toLine(big));
    const r = await readLines(path, 0, 10);
    expect(r.logs[0]?.logs[0]?.message.length).toBe(3 * 1024 * 1024);
  });

  it("writes values JSON cannot carry instead of failing the row", () => {
    const data: Record<string, unknown> = { n: 1n };
    data["self"] = data;
    const line = toLine(testLog({ logs: [{ level: "info", message: "cycle", data, ts: 1 }] }));
    expect(line.endsWith("\n")).toBe(true);
    expect(JSON.parse(line).logs[0].data).toEqual({ n: "1", self: "[Circular]" });
  });
});
