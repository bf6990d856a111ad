import { PiCloudError } from "@picloud/shared";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./request-context.ts";

/** Decodes one percent-encoded component, or null when it is malformed or holds a NUL. */
export function safeDecode(component: string, plusIsSpace = false): string | null {
  try {
    const s = decodeURIComponent(plusIsSpace ? component.replace(/\+/g, " ") : component);
    return s.includes("\0") ? null : s;
  } catch {
    return null;
  }
}

/**
 * Answers 400 in the error contract, before any route runs, for a path or query that is not
 * well-formed percent-encoding or that decodes to a NUL: nothing downstream (a route, the
 * database) ever meets such input. Under each of `passThrough` only the first segment after
 * the prefix is checked: the rest of an invocation's URL belongs to the script.
 */
export function requestSanity(opts: { passThrough?: string[] } = {}): MiddlewareHandler<AppEnv> {
  const passThrough = opts.passThrough ?? [];
  return async (c, next) => {
    const url = c.req.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const q = url.indexOf("?", start);
    const rawPath = url.slice(start, q === -1 ? undefined : q);
    const rawQuery = q === -1 ? "" : url.slice(q + 1);
    const prefix = passThrough.find((p) => rawPath.startsWith(p));
    const checked = prefix ? rawPath.slice(0, prefix.length) + rawPath.slice(prefix.length).split("/")[0] : rawPath;
    if (safeDecode(checked) === null) {
      throw new PiCloudError("bad_request", "the path is not valid percent-encoding (or holds a NUL)");
    }
    if (!prefix && rawQuery && rawQuery.split("&").some((part) => safeDecode(part, true) === null)) {
      throw new PiCloudError("bad_request", "the query string is not valid percent-encoding (or holds a NUL)");
    }
    await next();
  };
}
