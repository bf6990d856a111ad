import { errorBody, isPiCloudError, PiCloudError, sqlState } from "@picloud/shared";
import type { Context, ErrorHandler, Hono, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./request-context.ts";

/** Maps HTTP statuses Hono or a library may raise onto the contract codes. */
function codeForStatus(status: number): PiCloudError["code"] {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 409:
      return "conflict";
    case 413:
      return "payload_too_large";
    case 429:
      return "too_many_requests";
    case 503:
      return "service_unavailable";
    default:
      return status >= 500 ? "internal_server_error" : "bad_request";
  }
}

/**
 * Every error becomes the contract body. A PiCloudError knows its answer; anything
 * else is a bug: logged with its stack, answered 500 with the request id and no stack.
 */
export const onError: ErrorHandler<AppEnv> = (err, c) => {
  const requestId = c.get("requestId");
  if (isPiCloudError(err)) return (err as PiCloudError).toResponse(requestId);
  if (err instanceof HTTPException) {
    const e = new PiCloudError(codeForStatus(err.status), err.message || "request failed");
    return e.toResponse(requestId);
  }
  if (err instanceof SyntaxError && /JSON/.test(err.message)) {
    return new PiCloudError("bad_request", `malformed JSON body: ${err.message}`).toResponse(requestId);
  }
  if (err instanceof URIError) {
    return new PiCloudError("bad_request", "the request is not valid percent-encoding").toResponse(requestId);
  }
  // A value the database cannot take (a NUL in text, a number out of its column's range):
  // the input was bad, whichever route let it through (SQLSTATE class 22, "data exception").
  const state = sqlState(err);
  if (state?.startsWith("22")) {
    c.get("log")?.warn({ sqlState: state }, "a value the database refused reached it");
    return new PiCloudError("bad_request", "a value in the request is out of range or cannot be stored", {
      details: { sqlState: state },
    }).toResponse(requestId);
  }
  c.get("log")?.error({ err }, "unhandled error");
  return new PiCloudError("internal_server_error", "internal server error").toResponse(requestId);
};

export const notFound: NotFoundHandler<AppEnv> = (c: Context<AppEnv>) =>
  c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`), 404);

/**
 * Answers 405 (with `Allow`) for a known path asked with a method it does not serve.
 * Call after every route is registered.
 */
export function installMethodNotAllowed<E extends AppEnv>(app: Hono<E>): void {
  const byPath = new Map<string, Set<string>>();
  for (const r of app.routes) {
    if (r.method === "ALL" || r.path.endsWith("*")) continue;
    const set = byPath.get(r.path) ?? new Set<string>();
    set.add(r.method);
    byPath.set(r.path, set);
  }
  for (const [path, methods] of byPath) {
    if (methods.has("GET")) methods.add("HEAD");
    const allow = [...methods].sort().join(", ");
    app.all(path, (c) => {
      c.header("Allow", allow);
      return c.json(errorBody("method_not_allowed", `${c.req.method} is not allowed here; use ${allow}`), 405);
    });
  }
}
