import type { ExecutionReason, ExecutionStatus, InvocationOutcome, LogEntry, SerializedError } from "@picloud/shared";
import type { RunResult } from "./run-result.ts";

/** An outcome without a response: for faults found before or around a run. */
export function faultOutcome(
  status: ExecutionStatus,
  reason: ExecutionReason,
  message: string,
  extra: { durationMs?: number; cpuMs?: number; logs?: LogEntry[]; logsTruncated?: boolean; name?: string } = {},
): InvocationOutcome {
  return {
    status,
    reason,
    response: null,
    logs: extra.logs ?? [],
    logsTruncated: extra.logsTruncated ?? false,
    error: { name: extra.name ?? "Error", message, stack: null },
    durationMs: extra.durationMs ?? 0,
    cpuMs: extra.cpuMs ?? 0,
  };
}

/** A script whose uncaught error is an ArrayBuffer allocation failure hit its heap limit. */
function isAllocationFailure(e: SerializedError): boolean {
  return e.name === "RangeError" && /Array buffer allocation failed/i.test(e.message);
}

/** Maps a sandbox run to the contract's status and reason (docs/executor.md#budgets-and-outcomes). */
export function toOutcome(
  r: RunResult,
  durationMs: number,
  fixStack: (s: string | null) => string | null,
): InvocationOutcome {
  const base = {
    logs: r.logs.entries,
    logsTruncated: r.logs.truncated,
    durationMs,
    cpuMs: Math.round(r.cpuMs * 1000) / 1000,
  };
  const fail = (status: ExecutionStatus, reason: ExecutionReason, error: SerializedError): InvocationOutcome => ({
    ...base,
    status,
    reason,
    response: null,
    error: { ...error, stack: fixStack(error.stack) },
  });
  if (r.kind === "killed") return fail(r.reason === "heap" ? "budget_exceeded" : "timeout", r.reason, r.error);
  if (r.fetchLimit !== null)
    return fail("budget_exceeded", "fetch_limit", { name: "BudgetError", message: r.fetchLimit, stack: null });
  switch (r.kind) {
    case "ok":
      return { ...base, status: "success", reason: "ok", response: r.response, error: null };
    case "threw":
      if (isAllocationFailure(r.error)) return fail("budget_exceeded", "heap", r.error);
      return fail("error", "script_threw", r.error);
    case "invalid":
      return fail("error", "invalid_return", r.error);
    case "module":
      return fail("error", "invalid_module", r.error);
    case "limit":
      return fail("budget_exceeded", r.reason, r.error);
    default:
      return fail("error", "internal_error", r.error);
  }
}
