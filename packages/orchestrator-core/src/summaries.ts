import type { HttpSummary } from "@picloud/shared";

const SECRET_HEADERS = new Set(["authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"]);
const TEXTUAL = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|[\w.+-]+\+(json|xml)))/i;
export const REDACTED = "[redacted]";
// Decoders are stateless between whole-buffer decode() calls: one of each serves every log.
const LENIENT_UTF8 = new TextDecoder("utf-8", { fatal: false });
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Replaces env secret values wherever they occur in a string. */
export class Redactor {
  readonly #secrets: string[];
  constructor(secretValues: string[]) {
    // Very short values would redact half the world; they are not secrets anyway.
    this.#secrets = secretValues.filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
  }
  text(s: string): string {
    let out = s;
    for (const v of this.#secrets) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  }
  /** Deep copy of JSON-ish data with secrets replaced in strings. */
  data(v: unknown, depth = 0): unknown {
    if (this.#secrets.length === 0 || depth > 20) return v;
    if (typeof v === "string") return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.data(x, depth + 1));
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.data(x, depth + 1)]));
    }
    return v;
  }
}

/** Headers as stored: secret-bearing ones and env secret values redacted. */
export function redactHeaders(headers: Iterable<[string, string]>, redactor: Redactor): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of headers) {
    const name = k.toLowerCase();
    const value = SECRET_HEADERS.has(name) ? REDACTED : redactor.text(v);
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  return out;
}

/** A body as stored: UTF-8 text when it is text, base64 otherwise, truncated to `max` bytes. */
export function summarizeBody(
  body: Uint8Array | null,
  contentType: string | undefined,
  max: number,
  redactor: Redactor,
): Pick<HttpSummary, "body" | "bodyEncoding" | "bodySize" | "bodyTruncated"> {
  if (!body || body.byteLength === 0) {
    return { body: null, bodyEncoding: "utf8", bodySize: 0, bodyTruncated: false };
  }
  const truncated = body.byteLength > max;
  const slice = truncated ? body.subarray(0, max) : body;
  const textual = contentType ? TEXTUAL.test(contentType) : looksLikeUtf8(slice);
  if (textual) {
    // `fatal: false`: a cut in the middle of a character becomes U+FFFD, not an error.
    const text = LENIENT_UTF8.decode(slice);
    return { body: redactor.text(text), bodyEncoding: "utf8", bodySize: body.byteLength, bodyTruncated: truncated };
  }
  return {
    body: Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength).toString("base64"),
    bodyEncoding: "base64",
    bodySize: body.byteLength,
    bodyTruncated: truncated,
  };
}

function looksLikeUtf8(bytes: Uint8Array): boolean {
  try {
    STRICT_UTF8.decode(bytes.subarray(0, Math.min(bytes.byteLength, 1024)));
    return !bytes.subarray(0, 1024).includes(0);
  } catch {
    return false;
  }
}
