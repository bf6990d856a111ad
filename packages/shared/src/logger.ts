/** The part of a pino logger that background jobs (sink, retention, change feeds) use. */
export interface MinimalLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Logs through `logger` if there is one; a logger that throws never breaks the caller. */
export function safeLog(
  logger: MinimalLogger | undefined,
  level: "info" | "warn" | "error",
  obj: object,
  msg: string,
): void {
  try {
    logger?.[level](obj, msg);
  } catch {
    // a logger that throws must not break the caller
  }
}
