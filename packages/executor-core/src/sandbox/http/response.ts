/** Response, and the conversions between our Responses and the host's plain data. */
import { JSONStringify, WeakSetHas } from "../intrinsics.ts";
import type { HostFetchResult } from "../protocol.ts";
import type { BodyInit, ResponseApi, ResponseInit } from "../script-api.ts";
import { URL } from "../url.ts";
import { Body, bodyBytes, extractBody, setBody } from "./body.ts";
import { Headers, headerPairs } from "./headers.ts";

const responses = new WeakSet<object>();
const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  201: "Created",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  500: "Internal Server Error",
};

type HostResponse = Extract<HostFetchResult, { ok: true }>;

/** Builds the Response a host fetch answered with (its status may be 1xx..5xx). Set below. */
export let responseFromHost: (r: HostResponse) => Response;

// Never named inside its own body (see url.ts).
const newResponse = (body: BodyInit | null, init: ResponseInit): Response => new Response(body, init);

export class Response extends Body implements ResponseApi {
  #status: number;
  #statusText: string;
  #headers: Headers;
  #url: string;
  #redirected: boolean;
  constructor(body: BodyInit | null = null, init: ResponseInit = {}) {
    const [bytes, ctype] = extractBody(body);
    super(bytes);
    const status = init.status === undefined ? 200 : Number(init.status);
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`Response status must be an integer in 200..599, got ${init.status}`);
    }
    if (bytes !== null && (status === 204 || status === 205 || status === 304)) {
      throw new TypeError(`Response with status ${status} cannot have a body`);
    }
    this.#status = status;
    this.#statusText = init.statusText === undefined ? (STATUS_TEXT[status] ?? "") : String(init.statusText);
    this.#headers = new Headers(init.headers);
    if (ctype && !this.#headers.has("content-type")) this.#headers.set("content-type", ctype);
    this.#url = "";
    this.#redirected = false;
    responses.add(this);
  }
  static json(data: unknown, init: ResponseInit = {}): Response {
    const text = JSONStringify(data);
    if (text === undefined) throw new TypeError("Response.json: value is not JSON-serialisable");
    const headers = new Headers(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return newResponse(text, { ...init, headers });
  }
  static redirect(url: unknown, status = 302): Response {
    if (![301, 302, 303, 307, 308].includes(status)) throw new RangeError(`Invalid redirect status ${status}`);
    return newResponse(null, { status, headers: { location: new URL(String(url)).href } });
  }
  static error(): never {
    throw new TypeError("Response.error() is not supported");
  }
  get status(): number {
    return this.#status;
  }
  get statusText(): string {
    return this.#statusText;
  }
  get ok(): boolean {
    return this.#status >= 200 && this.#status < 300;
  }
  get headers(): Headers {
    return this.#headers;
  }
  get url(): string {
    return this.#url;
  }
  get redirected(): boolean {
    return this.#redirected;
  }
  get type(): string {
    return "default";
  }
  clone(): Response {
    if (this.bodyUsed) throw new TypeError("Cannot clone a used body");
    const r = newResponse(bodyBytes(this), {
      status: this.#status,
      statusText: this.#statusText,
      headers: this.#headers,
    });
    r.#url = this.#url;
    r.#redirected = this.#redirected;
    return r;
  }
  static {
    // A static block reaches the private fields without putting a factory on the class.
    responseFromHost = (r) => {
      const res = newResponse(null, { status: 200 });
      setBody(res, r.body);
      res.#status = r.status;
      res.#statusText = r.statusText;
      res.#headers = new Headers(r.headers);
      res.#url = r.url;
      res.#redirected = r.redirected;
      return res;
    };
  }
}

/** What the host sends for a response: status, header pairs and body bytes. */
export interface ResponseData {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

/** Plain data of one of our Responses, for the host; null for anything else. */
export function responseData(value: unknown): ResponseData | null {
  if (typeof value !== "object" || value === null || !WeakSetHas(responses, value)) return null;
  const res = value as Response;
  return {
    status: res.status,
    headers: headerPairs(res.headers),
    body: bodyBytes(res) ?? new Uint8Array(0),
  };
}
