import type { MinimalLogger } from "@picloud/shared";
import { type Logger, pino } from "pino";

export interface LoggedLine {
  level: string;
  msg: string | undefined;
  obj: object;
}

/** A logger that keeps its lines, for assertions on what a background job logged. */
export function collectingLogger(): MinimalLogger & { lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: "info", msg, obj }),
    warn: (obj, msg) => lines.push({ level: "warn", msg, obj }),
    error: (obj, msg) => lines.push({ level: "error", msg, obj }),
  };
}

/** A pino logger (what the binaries take) that keeps every line it writes, parsed. */
export function recordingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** The resources a binary closed after a failed start, from its "failed to start" line. */
export function closedAfterFailedStart(lines: Record<string, unknown>[]): string[] | undefined {
  const line = lines.find((l) => typeof l["msg"] === "string" && l["msg"].includes("failed to start"));
  return Array.isArray(line?.["closed"]) ? line["closed"].map(String) : undefined;
}
