import type { MinimalLogger } from "@picloud/shared";

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
