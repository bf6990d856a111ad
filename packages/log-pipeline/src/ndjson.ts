import { open } from "node:fs/promises";
import { type ExecutionLog, toJsonLenient } from "@picloud/shared";

/** One execution log as an NDJSON line (never throws: cycles and BigInts are replaced). */
export function toLine(log: ExecutionLog): string {
  return `${toJsonLenient(log)}\n`;
}

/** What `readLines` found: the rows, the offset after the last line read, and unreadable lines. */
export interface LinesRead {
  logs: ExecutionLog[];
  next: number;
  bad: number;
}

/**
 * Reads up to `maxLines` NDJSON rows of `path` from byte `offset`. A last line without its
 * newline (a crash mid-append) is used if it parses; a line that is not an object with a
 * string `id` counts as `bad`. A line longer than the read buffer grows it.
 */
export async function readLines(path: string, offset: number, maxLines: number): Promise<LinesRead> {
  const fh = await open(path, "r");
  try {
    let size = 1024 * 1024;
    for (;;) {
      const buf = Buffer.allocUnsafe(size);
      const { bytesRead } = await fh.read(buf, 0, size, offset);
      if (bytesRead === 0) return { logs: [], next: offset, bad: 0 };
      const data = buf.subarray(0, bytesRead);
      const lines: string[] = [];
      let pos = 0;
      while (lines.length < maxLines) {
        const nl = data.indexOf(10, pos);
        if (nl < 0) break;
        lines.push(data.toString("utf8", pos, nl));
        pos = nl + 1;
      }
      if (lines.length === 0) {
        if (bytesRead < size) {
          lines.push(data.toString("utf8"));
          pos = bytesRead;
        } else {
          size *= 2;
          continue;
        }
      }
      const logs: ExecutionLog[] = [];
      let bad = 0;
      for (const line of lines) {
        if (line.trim() === "") continue;
        const row = parseRow(line);
        if (row) logs.push(row);
        else bad++;
      }
      return { logs, next: offset + pos, bad };
    }
  } finally {
    await fh.close();
  }
}

function parseRow(line: string): ExecutionLog | null {
  try {
    const v = JSON.parse(line) as ExecutionLog | null;
    return v && typeof v === "object" && typeof v.id === "string" ? v : null;
  } catch {
    return null;
  }
}
