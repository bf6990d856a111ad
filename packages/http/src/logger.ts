import { type Logger, pino } from "pino";

export type { Logger };

/**
 * Structured JSON logs. Secrets never reach a log line: the usual carriers are redacted
 * wherever they appear in a logged object.
 */
export function createLogger(opts: { level?: string; name: string; nodeId?: string }): Logger {
  const common = {
    name: opts.name,
    level: opts.level ?? "info",
    base: { service: opts.name, ...(opts.nodeId ? { nodeId: opts.nodeId } : {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const logger = pino(
    {
      ...common,
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
    },
    stdoutDestination(),
  );
  PLAIN.set(logger, pino(common, stdoutDestination()));
  return logger;
}

/** Each logger made by `createLogger`, with its twin that does not redact. */
const PLAIN = new WeakMap<Logger, Logger>();

/**
 * The same logger (same destination, level and base fields) without redaction, for lines
 * whose fields are fixed and carry no secret-named keys, such as the access log: redaction
 * walks every logged object and cost more than the rest of the access line. A logger not
 * made by {@link createLogger} is returned as it is.
 */
export function plainLogger(logger: Logger): Logger {
  return PLAIN.get(logger) ?? logger;
}

/**
 * Standard output, written in batches: one line per request (the access log) was one
 * `write(2)` per request on the hot path. Lines collect up to 4 KiB and go out at the latest
 * 200 ms later, and synchronously on exit, so nothing is lost on a normal or fatal exit.
 */
let destination: ReturnType<typeof pino.destination> | null = null;
function stdoutDestination(): ReturnType<typeof pino.destination> {
  if (destination) return destination;
  const dest = pino.destination({ dest: 1, sync: true, minLength: 4096, periodicFlush: 200 });
  process.once("exit", () => {
    try {
      dest.flushSync();
    } catch {
      // stdout is gone: nothing left to write to
    }
  });
  destination = dest;
  return dest;
}
