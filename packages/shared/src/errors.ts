import { z } from "zod";

/**
 * The error contract (docs/api.md#errors): every non-2xx answer of the platform itself is
 * `{"error": code, "message": "…"}`. One base class knows its HTTP status, in the style
 * of Hono's HTTPException and miniflare's typed error codes.
 */

/** Every error code a client can see, with the HTTP status it is sent with. */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  too_many_requests: 429,
  internal_server_error: 500,
  script_error: 500,
  service_unavailable: 503,
  budget_exceeded: 503,
  timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** The JSON body of every platform error answer. */
export const ErrorBodySchema = z.object({
  error: z.enum(ERROR_CODES),
  message: z.string(),
  /** Present on 500s so that an operator can find the log line. */
  requestId: z.string().optional(),
  /** Extra machine-readable facts (e.g. `line`/`column` of a syntax error). */
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Codes caused by the caller or the script (user errors); the rest are system faults. */
const USER_CODES: ReadonlySet<ErrorCode> = new Set([
  "bad_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "conflict",
  "payload_too_large",
  "too_many_requests",
  "script_error",
  "timeout",
  "budget_exceeded",
]);

/** Base of every error PiCloud raises on purpose; carries its code, status and body. */
export class PiCloudError extends Error {
  override readonly name: string = "PiCloudError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  /** Extra response headers (e.g. `Retry-After`). */
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = opts.details;
    this.headers = opts.headers;
  }

  /** True when the caller or the script is at fault, false for a platform fault. */
  get isUserError(): boolean {
    return USER_CODES.has(this.code);
  }

  toBody(requestId?: string): ErrorBody {
    const body: ErrorBody = { error: this.code, message: this.message };
    if (this.details) body.details = this.details;
    if (requestId && this.status >= 500) body.requestId = requestId;
    return body;
  }

  /** A web `Response` in the error contract. */
  toResponse(requestId?: string): Response {
    return Response.json(this.toBody(requestId), {
      status: this.status,
      headers: { ...this.headers },
    });
  }
}

/** Type guard that also survives duplicate module instances. */
export function isPiCloudError(e: unknown): e is PiCloudError {
  return e instanceof PiCloudError || (e instanceof Error && e.name === "PiCloudError" && "code" in e);
}

/** Builds a contract body for the code without throwing (for adapters and 404/405 handlers). */
export function errorBody(code: ErrorCode, message: string, details?: Record<string, unknown>): ErrorBody {
  return details ? { error: code, message, details } : { error: code, message };
}

/** The SQLSTATE of a database error, through drivers' and drizzle's wrappers (postgres-js and PGlite). */
export function sqlState(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === "object"; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
