import type { Budgets, InvocationHttpResponse, SerializedError } from "@picloud/shared";
import type { LogCollector } from "./log-collector.ts";

/** Why the host stopped a run: a budget its watchdog or isolated-vm's heap limit enforced. */
export type KillReason = "wall_time" | "cpu_time" | "heap";

/** How a run ended, before it becomes an InvocationOutcome. */
export type RunCore =
  | { kind: "ok"; response: InvocationHttpResponse }
  | { kind: "threw" | "invalid" | "module" | "internal"; error: SerializedError }
  | { kind: "limit"; reason: string; error: SerializedError }
  | { kind: "killed"; reason: KillReason; error: SerializedError };
export type RunResult = RunCore & { logs: LogCollector; cpuMs: number; fetchLimit: string | null };

export function killed(reason: KillReason, b: Budgets): Extract<RunCore, { kind: "killed" }> {
  const message =
    reason === "wall_time"
      ? `wall-clock budget of ${b.wallTimeMs} ms exceeded`
      : reason === "cpu_time"
        ? `CPU budget of ${b.cpuTimeMs} ms exceeded`
        : `heap limit of ${b.memoryMb} MB exceeded`;
  return {
    kind: "killed",
    reason,
    error: { name: reason === "heap" ? "BudgetError" : "TimeoutError", message, stack: null },
  };
}

export function internalError(message: string): RunCore {
  return { kind: "internal", error: { name: "InternalError", message, stack: null } };
}

/**
 * Validates what the runtime's invoke returned (sandbox/protocol.ts `RuntimeResult`): it was
 * copied out, but its shape is untrusted.
 */
export function toRunResult(raw: unknown): RunCore {
  const r = (raw ?? {}) as Record<string, unknown>;
  const error = asError(r["error"]);
  switch (r["kind"]) {
    case "ok": {
      const status = Number(r["status"]);
      const headers = Array.isArray(r["headers"])
        ? (r["headers"] as unknown[][])
            .filter((h) => Array.isArray(h))
            .map((h) => [String(h[0]), String(h[1])] as [string, string])
        : [];
      const body = r["body"] instanceof Uint8Array ? r["body"] : new Uint8Array(0);
      if (!Number.isInteger(status) || status < 200 || status > 599) break;
      return { kind: "ok", response: { status, headers, body } };
    }
    case "threw":
    case "invalid":
      return { kind: r["kind"], error };
    case "limit":
      return { kind: "limit", reason: String(r["reason"]), error };
  }
  return internalError("the sandbox returned a malformed result");
}

function asError(v: unknown): SerializedError {
  const o = (v ?? {}) as Record<string, unknown>;
  return {
    name: typeof o["name"] === "string" ? o["name"] : "Error",
    message: typeof o["message"] === "string" ? o["message"] : "",
    stack: typeof o["stack"] === "string" ? o["stack"] : null,
  };
}

/** An error of the script's, as isolated-vm handed it to the host (only its strings are read). */
class ScriptError extends Error {
  readonly serialized: SerializedError;
  constructor(e: unknown) {
    const s: SerializedError =
      e instanceof Error
        ? { name: String(e.name), message: String(e.message), stack: typeof e.stack === "string" ? e.stack : null }
        : { name: "Error", message: String(e), stack: null };
    super(s.message);
    this.serialized = s;
  }
}

/** The script's module failed to compile, link or expose a usable default export. */
export class ModuleError extends ScriptError {}

/** The module threw while it was being evaluated. */
export class ScriptThrew extends ScriptError {}
