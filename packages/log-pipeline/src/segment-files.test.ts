import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SegmentFiles } from "./segment-files.ts";
import { tempDirs } from "./test-support.ts";

const makeDir = tempDirs("picloud-segments-");
const tempDir = async (): Promise<string> => join(await makeDir(), "segments");

describe("SegmentFiles", () => {
  it("appends to the active file and seals it every segmentBytes, oldest first", async () => {
    const files = new SegmentFiles({ dir: await tempDir(), segmentBytes: 10 });
    expect(await files.open()).toEqual([]);
    await files.append("aaaa\n", 5);
    expect([files.activeBytes, files.sealed.length, files.bytes]).toEqual([5, 0, 5]);
    await files.append("bbbb\n", 5);
    await files.append("cccc\n", 5);
    expect(files.sealed.map((s) => s.size)).toEqual([10]);
    expect([files.activeBytes, files.bytes]).toEqual([5, 15]);
    await files.seal();
    const [a, b] = files.sealed;
    expect(await readFile(a?.path ?? "", "utf8")).toBe("aaaa\nbbbb\n");
    expect(await readFile(b?.path ?? "", "utf8")).toBe("cccc\n");
    expect((a?.path ?? "") < (b?.path ?? "")).toBe(true);
    await files.close();
  });

  it("remove deletes a segment and its bytes; a file already gone is no error", async () => {
    const dir = await tempDir();
    const files = new SegmentFiles({ dir, segmentBytes: 5 });
    await files.open();
    await files.append("aaaa\n", 5);
    await files.append("bbbb\n", 5);
    const [a, b] = files.sealed;
    await rm(b?.path ?? "");
    await files.remove(a!);
    await files.remove(b!);
    expect([files.sealed.length, files.bytes]).toEqual([0, 0]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("open seals what an earlier process left, its active file last", async () => {
    const dir = await tempDir();
    const first = new SegmentFiles({ dir, segmentBytes: 5 });
    await first.open();
    await first.append("aaaa\n", 5); // sealed
    await first.append("bb\n", 3); // left active
    await first.close();
    await writeFile(join(dir, "unrelated.txt"), "x");
    const second = new SegmentFiles({ dir, segmentBytes: 5 });
    const found = await second.open();
    expect(found.map((s) => s.size)).toEqual([5, 3]);
    expect(await Promise.all(found.map((s) => readFile(s.path, "utf8")))).toEqual(["aaaa\n", "bb\n"]);
    expect([second.bytes, second.activeBytes]).toEqual([8, 0]);
    expect((await readdir(dir)).includes("active.ndjson")).toBe(false);
  });

  it("open fails on a path that is not a usable directory", async () => {
    const d = await tempDir();
    await writeFile(`${d}-file`, "x");
    await expect(new SegmentFiles({ dir: `${d}-file`, segmentBytes: 5 }).open()).rejects.toThrow();
  });
});
