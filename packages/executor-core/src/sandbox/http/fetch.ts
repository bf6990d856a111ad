/**
 * fetch: the request is performed by the host (address policy, redirects, budgets; see
 * docs/executor.md "fetch policy"). An AbortSignal rejects at once and cancels the host request.
 */
import { hostAbortFetch, hostFetch } from "../host.ts";
import { NativePromise } from "../intrinsics.ts";
import type { HostFetchRequest, HostFetchResult } from "../protocol.ts";
import type { RequestInit } from "../script-api.ts";
import { bodyBytes } from "./body.ts";
import { headerPairs } from "./headers.ts";
import { Request } from "./request.ts";
import { type Response, responseFromHost } from "./response.ts";

let fetchSeq = 0;

export async function fetch(input: unknown, init: RequestInit | undefined = undefined): Promise<Response> {
  const req = new Request(input, init ?? {});
  const signal = init?.signal ?? req.signal;
  if (signal?.aborted) throw signal.reason;
  const id = ++fetchSeq;
  const payload: HostFetchRequest = {
    id,
    method: req.method,
    url: req.url,
    headers: headerPairs(req.headers),
    body: bodyBytes(req),
    redirect: req.redirect,
  };
  let r: HostFetchResult | undefined;
  if (signal) {
    r = await new NativePromise<HostFetchResult>((resolve, reject) => {
      const onAbort = (): void => {
        hostAbortFetch(id);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      hostFetch(payload).then(
        (v) => {
          signal.removeEventListener("abort", onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  } else r = await hostFetch(payload);
  if (r?.ok !== true) {
    const message = (r as { message?: unknown } | undefined)?.message;
    throw new TypeError(`fetch failed: ${typeof message === "string" ? message : "network error"}`);
  }
  return responseFromHost(r);
}
