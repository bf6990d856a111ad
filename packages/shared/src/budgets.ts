import { z } from "zod";

/**
 * What one invocation may use (docs/scripts.md#budgets). Defaults come from configuration, a script's
 * own limits may lower them, and the admin ceilings cap everything.
 */
export interface Budgets {
  /** Wall-clock deadline for the whole invocation, awaited work included. */
  wallTimeMs: number;
  /** CPU time spent inside the isolate. */
  cpuTimeMs: number;
  /** Isolate heap limit. */
  memoryMb: number;
  maxRequestBytes: number;
  maxResponseBytes: number;
  maxLogLines: number;
  maxLogBytes: number;
  /** Outbound fetch: count, total response bytes, and time for each one. */
  maxFetches: number;
  maxFetchBytes: number;
  fetchTimeoutMs: number;
}

export const BUDGET_KEYS = [
  "wallTimeMs",
  "cpuTimeMs",
  "memoryMb",
  "maxRequestBytes",
  "maxResponseBytes",
  "maxLogLines",
  "maxLogBytes",
  "maxFetches",
  "maxFetchBytes",
  "fetchTimeoutMs",
] as const satisfies readonly (keyof Budgets)[];

/** Budgets as they cross a process boundary (the executor RPC): every key, a non-negative number. */
export const BudgetsSchema = z.object(
  Object.fromEntries(BUDGET_KEYS.map((k) => [k, z.number().nonnegative()])) as {
    [K in keyof Budgets]: z.ZodNumber;
  },
);

export const DEFAULT_BUDGETS: Budgets = {
  wallTimeMs: 10_000,
  cpuTimeMs: 1_000,
  memoryMb: 64,
  maxRequestBytes: 1024 * 1024,
  maxResponseBytes: 5 * 1024 * 1024,
  maxLogLines: 200,
  maxLogBytes: 64 * 1024,
  maxFetches: 20,
  maxFetchBytes: 5 * 1024 * 1024,
  fetchTimeoutMs: 5_000,
};

export const DEFAULT_CEILINGS: Budgets = {
  wallTimeMs: 60_000,
  cpuTimeMs: 30_000,
  memoryMb: 256,
  maxRequestBytes: 10 * 1024 * 1024,
  maxResponseBytes: 20 * 1024 * 1024,
  maxLogLines: 2_000,
  maxLogBytes: 1024 * 1024,
  maxFetches: 100,
  maxFetchBytes: 50 * 1024 * 1024,
  fetchTimeoutMs: 30_000,
};

/** Per-script limits as stored and as accepted by the API: any subset of the budgets. */
export const ScriptLimitsSchema = z
  .object(
    Object.fromEntries(BUDGET_KEYS.map((k) => [k, z.number().int().positive().optional()])) as {
      [K in keyof Budgets]: z.ZodOptional<z.ZodNumber>;
    },
  )
  .strict();
export type ScriptLimits = Partial<Budgets>;

/** Keys of `limits` that exceed the ceilings, for a 400 that names them. */
export function limitsOverCeiling(limits: ScriptLimits, ceilings: Budgets): (keyof Budgets)[] {
  return BUDGET_KEYS.filter((k) => {
    const v = limits[k];
    return v !== undefined && v > ceilings[k];
  });
}

/** The budgets an invocation runs under: script value or default, never above the ceiling. */
export function resolveBudgets(defaults: Budgets, ceilings: Budgets, limits: ScriptLimits = {}): Budgets {
  const out = { ...defaults };
  for (const k of BUDGET_KEYS) out[k] = Math.min(limits[k] ?? defaults[k], ceilings[k]);
  return out;
}
