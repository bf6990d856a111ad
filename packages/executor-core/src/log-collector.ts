import type { LogEntry, LogLevel } from "@picloud/shared";

const LEVELS: ReadonlySet<string> = new Set(["debug", "info", "warn", "error"]);

/**
 * Host-side, authoritative log cap for one invocation (the isolate keeps a rough count of
 * its own so that log spam stops at the source). Once a cap is hit, one visible marker
 * entry is appended and everything after it is dropped.
 */
export class LogCollector {
  readonly entries: LogEntry[] = [];
  truncated = false;
  #bytes = 0;
  readonly #maxLines: number;
  readonly #maxBytes: number;

  constructor(maxLines: number, maxBytes: number) {
    this.#maxLines = maxLines;
    this.#maxBytes = maxBytes;
  }

  add(level: unknown, message: unknown, dataJson: unknown, truncatedInIsolate: unknown): void {
    if (this.truncated) return;
    if (truncatedInIsolate === true) {
      this.#truncate();
      return;
    }
    const msg = typeof message === "string" ? message : String(message);
    const json = typeof dataJson === "string" ? dataJson : undefined;
    const size = Buffer.byteLength(msg) + (json === undefined ? 0 : Buffer.byteLength(json));
    if (this.entries.length + 1 > this.#maxLines || this.#bytes + size > this.#maxBytes) {
      this.#truncate();
      return;
    }
    this.#bytes += size;
    const entry: LogEntry = {
      level: LEVELS.has(level as string) ? (level as LogLevel) : "info",
      message: msg,
      ts: Date.now(),
    };
    if (json !== undefined) {
      try {
        entry.data = JSON.parse(json);
      } catch {
        entry.data = json;
      }
    }
    this.entries.push(entry);
  }

  #truncate(): void {
    this.truncated = true;
    this.entries.push({
      level: "warn",
      message: `[picloud] log truncated: limit of ${this.#maxLines} lines / ${this.#maxBytes} bytes per invocation reached`,
      ts: Date.now(),
    });
  }
}
