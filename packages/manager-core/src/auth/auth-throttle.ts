import { PiCloudError } from "@picloud/shared";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

export interface AuthThrottleOptions {
  /** Wrong admin tokens an address may present per window. Default 10. */
  failures?: number;
  /** The window, and how long an address stays refused once over. Default 60 s. */
  windowS?: number;
}

/**
 * Per-address brute-force guard for the admin token (sign-in, and a wrong bearer token on
 * an admin route): after `failures` wrong tokens in `windowS`, the address is answered
 * 429 with `Retry-After` until the window passes — even with the right token, so that
 * guessing cannot go on. A successful sign-in clears the address. Counters live in this
 * process (rate-limiter-flexible's memory store; docs/security.md, "Sign-in").
 */
export class AuthThrottle {
  readonly #limiter: RateLimiterMemory;
  readonly #failures: number;

  constructor(o: AuthThrottleOptions = {}) {
    this.#failures = o.failures ?? 10;
    const windowS = o.windowS ?? 60;
    this.#limiter = new RateLimiterMemory({ points: this.#failures, duration: windowS, blockDuration: windowS });
  }

  /** Throws 429 when the address is refused for now. */
  async check(address: string): Promise<void> {
    const res = await this.#limiter.get(address);
    if (res && res.consumedPoints > this.#failures) throw tooMany(res.msBeforeNext);
  }

  /** Counts a wrong token; throws 429 once the address is over its allowance. */
  async fail(address: string): Promise<void> {
    try {
      await this.#limiter.consume(address);
    } catch (e) {
      if (e instanceof RateLimiterRes) throw tooMany(e.msBeforeNext);
      throw e;
    }
  }

  async succeed(address: string): Promise<void> {
    await this.#limiter.delete(address);
  }
}

function tooMany(ms: number): PiCloudError {
  const retryAfter = Math.max(1, Math.ceil(ms / 1000));
  return new PiCloudError(
    "too_many_requests",
    `too many wrong admin tokens from this address: retry in ${retryAfter} s`,
    {
      headers: { "Retry-After": String(retryAfter) },
      details: { retryAfterS: retryAfter },
    },
  );
}
