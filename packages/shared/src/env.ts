import { z } from "zod";
import { BUDGET_KEYS, type Budgets, DEFAULT_BUDGETS, DEFAULT_CEILINGS } from "./budgets.ts";

/** Start-up configuration problem: one line per variable, each naming what is wrong. */
export class EnvError extends Error {
  override readonly name = "EnvError";
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.problems = problems;
  }
}

/** `wallTimeMs` -> `WALL_TIME_MS`. */
export function screamingSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/** An env integer: digits only, with a readable message. */
export function envInt(opts: { min?: number; max?: number } = {}) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(opts.min ?? 0)
        .max(opts.max ?? Number.MAX_SAFE_INTEGER),
    );
}

export const envBool = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");

export const LogLevelSchema = z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);

/** `PICLOUD_BUDGET_*` (defaults) and `PICLOUD_CEILING_*` (admin caps) variables. */
export function budgetEnvShape(): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  for (const k of BUDGET_KEYS) {
    shape[`PICLOUD_BUDGET_${screamingSnake(k)}`] = envInt({ min: 1 }).optional();
    shape[`PICLOUD_CEILING_${screamingSnake(k)}`] = envInt({ min: 1 }).optional();
  }
  return shape;
}

/** Reads budgets and ceilings out of a parsed env; a default above its ceiling is an error. */
export function budgetsFromEnv(env: Record<string, unknown>): { defaults: Budgets; ceilings: Budgets } {
  const defaults = { ...DEFAULT_BUDGETS };
  const ceilings = { ...DEFAULT_CEILINGS };
  const problems: string[] = [];
  for (const k of BUDGET_KEYS) {
    const d = env[`PICLOUD_BUDGET_${screamingSnake(k)}`];
    const c = env[`PICLOUD_CEILING_${screamingSnake(k)}`];
    if (typeof c === "number") ceilings[k] = c;
    if (typeof d === "number") defaults[k] = d;
    if (defaults[k] > ceilings[k]) {
      if (typeof d === "number")
        problems.push(`PICLOUD_BUDGET_${screamingSnake(k)}: ${d} is above its ceiling ${ceilings[k]}`);
      else defaults[k] = ceilings[k];
    }
  }
  if (problems.length) throw new EnvError(problems);
  return { defaults, ceilings };
}

export interface ParsedEnv<T> {
  env: T;
  /** Unknown PICLOUD_* variables, probably typos. */
  warnings: string[];
}

/**
 * Parses the process environment with a zod object schema. Throws `EnvError` with one
 * actionable line per bad variable; unknown `PICLOUD_*` names come back as warnings.
 */
export function parseEnv<S extends z.ZodObject>(
  schema: S,
  source: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env,
): ParsedEnv<z.infer<S>> {
  // Empty strings mean "unset", as in most .env tooling.
  const input = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "(env)");
      const got = input[name];
      const shown = got === undefined ? "it is not set" : `got ${JSON.stringify(redactish(name, got))}`;
      return `${name}: ${issue.message} (${shown})`;
    });
    throw new EnvError(problems);
  }
  const known = new Set(Object.keys(schema.shape));
  const warnings = Object.keys(input)
    .filter((k) => k.startsWith("PICLOUD_") && !k.startsWith("PICLOUD_TEST_") && !known.has(k))
    .map((k) => `${k} is not a PiCloud setting and is ignored (a typo?)`);
  return { env: result.data, warnings };
}

function redactish(name: string, value: string): string {
  return /TOKEN|KEY|SECRET|PASSWORD|DATABASE_URL/.test(name) ? "<redacted>" : value;
}

/**
 * Connection limits of every binary's HTTP server (`@picloud/http/node`), the same four
 * variables everywhere (docs/security.md, "Limits"). Unset: see `serverLimitsFromEnv`.
 */
export function serverLimitsEnvShape() {
  return {
    /** Open connections at once; more are closed at accept. Default: 4096, below the fd limit. */
    PICLOUD_MAX_CONNECTIONS: envInt({ min: 1, max: 1_000_000 }).optional(),
    /** Time for a client to send a request's headers (slow-loris guard). */
    PICLOUD_HEADERS_TIMEOUT_MS: envInt({ min: 100, max: 3_600_000 }).default(10_000),
    /** Time for a client to send a whole request, body included. */
    PICLOUD_REQUEST_TIMEOUT_MS: envInt({ min: 100, max: 3_600_000 }).default(60_000),
    /** How long an idle keep-alive connection stays open. */
    PICLOUD_KEEP_ALIVE_TIMEOUT_MS: envInt({ min: 100, max: 3_600_000 }).default(5_000),
  };
}

/** The limits an HTTP server enforces (see `serverLimitsEnvShape`). */
export interface ServerLimits {
  maxConnections?: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** Reads the connection limits out of a parsed env. */
export function serverLimitsFromEnv(env: {
  PICLOUD_MAX_CONNECTIONS?: number | undefined;
  PICLOUD_HEADERS_TIMEOUT_MS: number;
  PICLOUD_REQUEST_TIMEOUT_MS: number;
  PICLOUD_KEEP_ALIVE_TIMEOUT_MS: number;
}): ServerLimits {
  return {
    ...(env.PICLOUD_MAX_CONNECTIONS === undefined ? {} : { maxConnections: env.PICLOUD_MAX_CONNECTIONS }),
    // A whole request cannot take less time than its headers.
    headersTimeoutMs: Math.min(env.PICLOUD_HEADERS_TIMEOUT_MS, env.PICLOUD_REQUEST_TIMEOUT_MS),
    requestTimeoutMs: env.PICLOUD_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: env.PICLOUD_KEEP_ALIVE_TIMEOUT_MS,
  };
}

/**
 * `PICLOUD_EXECUTE_ORIGIN`: the operator's separate origin for scripts (e.g.
 * `https://run.example.com`). Unset: scripts share the platform's origin, sandboxed.
 */
export const executeOriginEnv = z
  .string()
  .regex(/^https?:\/\/[^/?#\s]+\/?$/, "must be an origin such as https://run.example.com (no path)")
  .transform((s) => s.replace(/\/$/, ""))
  .optional();
