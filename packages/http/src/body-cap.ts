import { PiCloudError } from "@picloud/shared";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "./request-context.ts";

/** A body cap for the paths under `prefix`; `null` leaves the route to cap its own body. */
export interface BodyCapRule {
  prefix: string;
  maxBytes: number | null;
}

/** Control-plane caps (docs/api.md, "Limits"). */
export const BODY_CAPS = {
  /** Sign-in and sign-out: a token fits in far less. */
  auth: 4 * 1024,
  /** Script writes: a source of up to 1 MiB, JSON-escaped, with its env. */
  scripts: 2 * 1024 * 1024,
  /** Every other route of the platform. */
  default: 64 * 1024,
} as const;

function human(n: number): string {
  return n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : `${n / 1024} KiB`;
}

/**
 * Caps every request body before anything reads it: the first rule whose prefix matches
 * decides, else `defaultMaxBytes`. A declared length over the cap is answered 413 without
 * reading a byte; a chunked body is cut off as soon as it passes the cap.
 */
export function bodyCaps(rules: BodyCapRule[], defaultMaxBytes: number = BODY_CAPS.default): MiddlewareHandler<AppEnv> {
  const limits = new Map<number, MiddlewareHandler<AppEnv>>();
  const limitFor = (max: number): MiddlewareHandler<AppEnv> => {
    let mw = limits.get(max);
    if (!mw) {
      mw = bodyLimit({
        maxSize: max,
        onError: () => {
          throw new PiCloudError("payload_too_large", `request body is over ${human(max)}`, {
            details: { maxBytes: max },
            // The rest of the body is not read: the connection is not reused.
            headers: { connection: "close" },
          });
        },
      });
      limits.set(max, mw);
    }
    return mw;
  };
  return async (c, next) => {
    const path = c.req.path;
    const rule = rules.find((r) => path === r.prefix || path.startsWith(r.prefix));
    const max = rule ? rule.maxBytes : defaultMaxBytes;
    if (max === null) return next();
    return limitFor(max)(c, next);
  };
}
