/**
 * Results and errors turned into plain data inside the isolate, under the invocation's
 * budgets: a hostile value (throwing getters, Proxies, cycles) can only cost the script its
 * own time (docs/executor.md, "Sandbox").
 */
import { attempt, describe, safeString } from "./describe.ts";
import { utf8Encode } from "./encoding.ts";
import { type ResponseData, responseData } from "./http/response.ts";
import { ErrorCtor, JSONStringify } from "./intrinsics.ts";
import type { RuntimeError, RuntimeResult } from "./protocol.ts";

export function serializeError(e: unknown): RuntimeError {
  try {
    if (e !== null && (typeof e === "object" || typeof e === "function")) {
      const err = e as Error;
      const isErr = attempt(() => e instanceof ErrorCtor, false);
      const name = attempt(() => err.name, undefined);
      const message = attempt(() => err.message, undefined);
      const stack = attempt(() => err.stack, undefined);
      if (!isErr && typeof message !== "string")
        return { name: "Error", message: "Uncaught " + describe(e).slice(0, 4096), stack: null };
      return {
        name: typeof name === "string" ? name.slice(0, 200) : "Error",
        message: safeString(message ?? "").slice(0, 4096),
        stack: typeof stack === "string" ? stack.slice(0, 16384) : null,
      };
    }
    return {
      name: "Error",
      message: typeof e === "string" ? e.slice(0, 4096) : "Uncaught " + safeString(e),
      stack: null,
    };
  } catch {
    return { name: "Error", message: "Uncaught exception (could not be described)", stack: null };
  }
}

export function invalidReturn(message: string): RuntimeResult {
  return { kind: "invalid", error: { name: "TypeError", message, stack: null } };
}

/** A body too large to encode, standing in for it in the size check. */
type Oversized = Omit<ResponseData, "body"> & { body: { byteLength: number } };

/** The handler's return value as a response, or why it cannot be sent. */
export function toResult(value: unknown, maxBytes: number): RuntimeResult {
  let data: ResponseData | Oversized | null = responseData(value);
  if (data === null) {
    if (value === undefined) data = { status: 204, headers: [], body: new Uint8Array(0) };
    else if (typeof value === "string") {
      if (value.length > maxBytes) data = { status: 200, headers: [], body: { byteLength: value.length } };
      else data = { status: 200, headers: [["content-type", "text/plain;charset=UTF-8"]], body: utf8Encode(value) };
    } else if (typeof value === "function" || typeof value === "symbol") {
      return invalidReturn(`the handler returned a ${typeof value}, which cannot be sent as a response`);
    } else {
      let text: string | undefined;
      try {
        text = JSONStringify(value);
      } catch (e) {
        return invalidReturn("the handler's return value cannot be serialised as JSON: " + serializeError(e).message);
      }
      if (typeof text !== "string") return invalidReturn("the handler's return value cannot be serialised as JSON");
      if (text.length > maxBytes) data = { status: 200, headers: [], body: { byteLength: text.length } };
      else data = { status: 200, headers: [["content-type", "application/json"]], body: utf8Encode(text) };
    }
  }
  let headerBytes = 0;
  // Index loop: user code may have replaced Array.prototype[Symbol.iterator].
  for (let i = 0; i < data.headers.length; i++) {
    const h = data.headers[i] as [string, string];
    headerBytes += h[0].length + h[1].length + 4;
  }
  if (data.body.byteLength + headerBytes > maxBytes) {
    const message = `response body exceeds the ${maxBytes}-byte budget`;
    return { kind: "limit", reason: "response_too_large", error: { name: "BudgetError", message, stack: null } };
  }
  return { kind: "ok", status: data.status, headers: data.headers, body: data.body as Uint8Array };
}
