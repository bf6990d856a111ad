/**
 * console.* and log.*: lines go to the host's log collector, capped per invocation. The
 * isolate stops calling the host once its own count is over the caps, so log spam costs
 * only the script's CPU (docs/executor.md, "Budgets and outcomes": Logs).
 */
import { describe, safeJSON, safeString } from "./describe.ts";
import { hostLog } from "./host.ts";
import { JSONStringify, ObjectFreeze } from "./intrinsics.ts";
import type { HostLogLevel } from "./protocol.ts";
import type { ConsoleApi, LogApi } from "./script-api.ts";

interface LogState {
  lines: number;
  bytes: number;
  maxLines: number;
  maxBytes: number;
  truncated: boolean;
}

let logState: LogState = { lines: 0, bytes: 0, maxLines: 0, maxBytes: 0, truncated: false };

/** Fresh log counters for an invocation. */
export function resetLogs(maxLines: number, maxBytes: number): void {
  logState = { lines: 0, bytes: 0, maxLines, maxBytes, truncated: false };
}

function emit(level: HostLogLevel, message: string, dataJson: string | undefined): void {
  const st = logState;
  if (st.truncated) return;
  const msg = message.length > st.maxBytes ? message.slice(0, st.maxBytes) : message;
  const size = msg.length + (dataJson === undefined ? 0 : dataJson.length);
  if (st.lines + 1 > st.maxLines || st.bytes + size > st.maxBytes) {
    st.truncated = true;
    hostLog("warn", "", undefined, true);
    return;
  }
  st.lines++;
  st.bytes += size;
  hostLog(level, msg, dataJson, false);
}

const consoleLevels: Record<string, HostLogLevel> = {
  log: "info",
  info: "info",
  debug: "debug",
  trace: "debug",
  warn: "warn",
  error: "error",
};
const consoleMethods: Record<string, (...args: unknown[]) => void> = {};
for (const name of Object.keys(consoleLevels)) {
  const level = consoleLevels[name] as HostLogLevel;
  consoleMethods[name] = (...args: unknown[]) => {
    let msg = "";
    for (let i = 0; i < args.length; i++) msg += (i ? " " : "") + describe(args[i]);
    emit(level, msg, undefined);
  };
}
export const console = consoleMethods as Record<string, (...args: unknown[]) => void> & ConsoleApi;
console.assert = (cond: unknown, ...args: unknown[]) => {
  if (!cond) console.error("Assertion failed", ...args);
};
console.table = console.log;
console.dir = console.log;

const logMethods: Record<string, (message: unknown, data?: unknown) => void> = {};
for (const level of ["debug", "info", "warn", "error"] as const) {
  logMethods[level] = (message: unknown, data?: unknown) => {
    let json: string | undefined;
    if (data !== undefined) {
      json = safeJSON(data);
      if (json === undefined) json = JSONStringify(`[unserialisable ${typeof data}]`);
    }
    emit(level, safeString(message), json);
  };
}
export const log = logMethods as Record<string, (message: unknown, data?: unknown) => void> & LogApi;
ObjectFreeze(log);

/** An exception thrown by a timer or event listener: logged, the invocation goes on. */
export function reportTimerError(e: unknown): void {
  emit("error", "Uncaught exception in timer: " + describe(e), undefined);
}
