import { type Logger, pino } from "pino";

export type { Logger };

/**
 * Structured JSON logs. Secrets never reach a log line: the usual carriers are redacted
 * wherever they appear in a logged object.
 */
export function createLogger(opts: { level?: string; name: string; nodeId?: string }): Logger {
  return pino({
    name: opts.name,
    level: opts.level ?? "info",
    base: { service: opts.name, ...(opts.nodeId ? { nodeId: opts.nodeId } : {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        "token",
        "*.token",
        "authorization",
        "*.authorization",
        "headers.authorization",
        "headers.cookie",
        "*.headers.authorization",
        "*.headers.cookie",
        "env",
        "*.env",
        "key",
        "*.key",
      ],
      censor: "[redacted]",
    },
  });
}
