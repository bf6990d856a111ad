/** Request: method, URL, headers, redirect mode, signal and a byte body. */
import type { AbortSignalApi, RequestApi, RequestInit } from "../script-api.ts";
import { URL } from "../url.ts";
import { Body, bodyBytes, extractBody } from "./body.ts";
import { Headers } from "./headers.ts";

const METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"];

// Never named inside its own body (see url.ts).
const isRequest = (v: unknown): v is Request => v instanceof Request;
const newRequest = (from: Request): Request => new Request(from);

export class Request extends Body implements RequestApi {
  #method: string;
  #url: string;
  #headers: Headers;
  #redirect: string;
  #signal: AbortSignalApi | null;
  constructor(input: unknown, init: RequestInit = {}) {
    const from = isRequest(input) ? input : null;
    let bytes: Uint8Array | null = null;
    let ctype: string | null = null;
    if (init.body !== undefined && init.body !== null) [bytes, ctype] = extractBody(init.body);
    else if (from) bytes = bodyBytes(from);
    super(bytes);
    const m = String(init.method ?? from?.method ?? "GET");
    this.#method = METHODS.includes(m.toUpperCase()) ? m.toUpperCase() : m;
    if ((this.#method === "GET" || this.#method === "HEAD") && bytes !== null) {
      throw new TypeError("Request with GET/HEAD method cannot have body");
    }
    this.#url = from ? from.url : new URL(String(input)).href;
    this.#headers = new Headers(init.headers ?? from?.headers);
    if (ctype && !this.#headers.has("content-type")) this.#headers.set("content-type", ctype);
    this.#redirect = String(init.redirect ?? from?.redirect ?? "follow");
    this.#signal = init.signal ?? from?.signal ?? null;
  }
  get signal(): AbortSignalApi | null {
    return this.#signal;
  }
  get method(): string {
    return this.#method;
  }
  get url(): string {
    return this.#url;
  }
  get headers(): Headers {
    return this.#headers;
  }
  get redirect(): string {
    return this.#redirect;
  }
  clone(): Request {
    if (this.bodyUsed) throw new TypeError("Cannot clone a used body");
    return newRequest(this);
  }
}
