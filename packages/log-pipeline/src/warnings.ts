import { type MinimalLogger, safeLog } from "@picloud/shared";

/**
 * A warning that would otherwise flood the log (one per dropped row, one per failed attempt):
 * occurrences are counted, and a line goes out at most every `everyMs` — or at once when
 * forced (the first failure after a healthy spell) — carrying the count since the last line.
 */
export class RateLimitedWarning {
  readonly #logger: MinimalLogger | undefined;
  readonly #message: string;
  readonly #countField: string;
  readonly #everyMs: number;
  readonly #now: () => number;
  #last = Number.NEGATIVE_INFINITY;
  #since = 0;

  constructor(o: {
    logger: MinimalLogger | undefined;
    message: string;
    /** Name of the field that carries the count, e.g. `dropped`. */
    countField: string;
    everyMs?: number;
    now?: () => number;
  }) {
    this.#logger = o.logger;
    this.#message = o.message;
    this.#countField = o.countField;
    this.#everyMs = o.everyMs ?? 10_000;
    this.#now = o.now ?? Date.now;
  }

  /** Counts `n` occurrences; logs them at warn with `fields` when forced or when the interval has passed. */
  note(n: number, fields: object, force = false): void {
    this.#since += n;
    const now = this.#now();
    if (!force && now - this.#last < this.#everyMs) return;
    safeLog(this.#logger, "warn", { [this.#countField]: this.#since, ...fields }, this.#message);
    this.#last = now;
    this.#since = 0;
  }
}

/** A loggable digest of an error: name, message (with its cause's), and a `code` if one is set along the cause chain. */
export function errorSummary(err: unknown): { name?: string; message: string; code?: string } {
  if (!(err instanceof Error)) return { message: String(err) };
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  const code = errorCode(err);
  return {
    name: err.name,
    message: cause ? `${err.message.slice(0, 200)}: ${cause}` : err.message.slice(0, 500),
    ...(code ? { code } : {}),
  };
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e && typeof e === "object"; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
