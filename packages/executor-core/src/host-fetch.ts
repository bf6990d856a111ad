import { lookup as dnsLookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import type { HostFetcher, InvocationState } from "./invocation-state.ts";
import { isBlockedAddress } from "./ip-policy.ts";
import type { HostFetchRequest, HostFetchResult } from "./sandbox/protocol.ts";

export interface FetchPolicyOptions {
  /**
   * Operator allow-list: hostnames (`"api.internal"`) or `host:port` pairs that may be
   * fetched even though they resolve to private/loopback/link-local addresses.
   */
  fetchAllowHosts?: string[];
  /** Most redirects followed for one fetch (each hop also counts against `maxFetches`). */
  maxRedirects?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const HOP_HEADERS = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive", "upgrade"]);

class FetchRefused extends Error {}
class FetchLimit extends Error {}

/**
 * The host side of the sandbox's `fetch`: counts and caps (count, bytes, time), checks
 * every resolved address of every hop against the SSRF policy, then connects to exactly
 * the address it checked (a pinned `lookup`), so DNS rebinding cannot slip past.
 */
export function createHostFetcher(opts: FetchPolicyOptions = {}): HostFetcher {
  const allow = new Set((opts.fetchAllowHosts ?? []).map((h) => h.toLowerCase().replace(/^\[|\](?=:|$)/g, "")));
  const maxRedirects = opts.maxRedirects ?? 10;
  return async (req: HostFetchRequest, st: InvocationState): Promise<HostFetchResult> => {
    const ctl = new AbortController();
    const id = Number(req.id);
    st.fetchAborts.set(id, ctl);
    try {
      return await follow(req, st, allow, maxRedirects, ctl.signal);
    } catch (e) {
      if (e instanceof FetchLimit) st.fetchLimit = e.message;
      const msg = e instanceof Error ? e.message : String(e);
      return { ok: false, message: msg };
    } finally {
      st.fetchAborts.delete(id);
    }
  };
}

async function follow(
  req: HostFetchRequest,
  st: InvocationState,
  allow: Set<string>,
  maxRedirects: number,
  cancel: AbortSignal,
): Promise<HostFetchResult> {
  let url = parseTarget(req.url);
  let method = String(req.method).toUpperCase();
  let body = req.body;
  let headers = req.headers.filter(([k]) => !HOP_HEADERS.has(k.toLowerCase()));
  for (let hop = 0; ; hop++) {
    const res = await fetchOnce(url, method, headers, body, st, allow, cancel);
    const location = res.headers.find(([k]) => k === "location")?.[1];
    if (!REDIRECTS.has(res.status) || location === undefined || req.redirect === "manual") {
      return { ok: true, ...res, url: url.href, redirected: hop > 0 };
    }
    if (req.redirect === "error") throw new FetchRefused(`redirect to ${location} refused (redirect: "error")`);
    if (hop >= maxRedirects) throw new FetchRefused(`too many redirects (more than ${maxRedirects})`);
    url = parseTarget(new URL(location, url).href);
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
      method = method === "HEAD" ? "HEAD" : "GET";
      body = null;
      headers = headers.filter(([k]) => !k.toLowerCase().startsWith("content-"));
    }
  }
}

function parseTarget(href: string): URL {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    throw new FetchRefused(`invalid URL ${href.slice(0, 200)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new FetchRefused(`unsupported protocol ${url.protocol}`);
  return url;
}

function isAllowed(url: URL, allow: Set<string>): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return allow.has(host) || allow.has(`${host}:${port}`);
}

/** Resolves and checks every address; returns the one to connect to. */
async function resolveChecked(
  url: URL,
  allow: Set<string>,
  signal: AbortSignal,
): Promise<{ address: string; family: number }> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addrs: { address: string; family: number }[];
  if (isIP(host)) addrs = [{ address: host, family: isIP(host) }];
  else {
    const aborted = new Promise<never>((_, rej) =>
      signal.addEventListener("abort", () => rej(new FetchRefused("DNS lookup timed out")), { once: true }),
    );
    try {
      addrs = await Promise.race([dnsLookup(host, { all: true, verbatim: true }), aborted]);
    } catch (e) {
      throw e instanceof FetchRefused ? e : new FetchRefused(`could not resolve ${host}`);
    }
  }
  if (addrs.length === 0) throw new FetchRefused(`could not resolve ${host}`);
  if (!isAllowed(url, allow)) {
    const bad = addrs.find((a) => isBlockedAddress(a.address));
    if (bad)
      throw new FetchRefused(
        `refused to connect to ${host} (${bad.address}): private, loopback, link-local or reserved address`,
      );
  }
  return addrs[0] as { address: string; family: number };
}

type Hop = { status: number; statusText: string; headers: [string, string][]; body: Uint8Array };

async function fetchOnce(
  url: URL,
  method: string,
  headers: [string, string][],
  body: Uint8Array | null,
  st: InvocationState,
  allow: Set<string>,
  cancel: AbortSignal,
): Promise<Hop> {
  const b = st.budgets;
  if (st.fetchCount >= b.maxFetches) throw new FetchLimit(`fetch budget exceeded: more than ${b.maxFetches} requests`);
  st.fetchCount++;
  if (cancel.aborted) throw new FetchRefused("aborted");
  const signal = AbortSignal.any([st.abort.signal, cancel, AbortSignal.timeout(b.fetchTimeoutMs)]);
  const target = await resolveChecked(url, allow, signal);
  const outHeaders: Record<string, string> = {};
  for (const [k, v] of headers)
    outHeaders[k.toLowerCase()] = outHeaders[k.toLowerCase()] ? `${outHeaders[k.toLowerCase()]}, ${v}` : v;
  outHeaders["accept-encoding"] ??= "gzip, deflate, br";
  if (body) outHeaders["content-length"] = String(body.byteLength);
  const mod = url.protocol === "https:" ? https : http;
  return await new Promise<Hop>((resolve, reject) => {
    const request = mod.request(url, {
      method,
      headers: outHeaders,
      signal,
      agent: false,
      // Connect to the address that was checked, whatever DNS says now.
      lookup: (_h, o, cb) =>
        (o as { all?: boolean }).all ? cb(null, [target]) : cb(null, target.address, target.family),
    } as http.RequestOptions);
    request.on("error", (e) =>
      reject(
        signal.aborted
          ? new FetchRefused(`fetch to ${url.host} timed out or was aborted`)
          : new FetchRefused(`${e.message}`),
      ),
    );
    request.on("response", (res) => {
      const chunks: Buffer[] = [];
      let stream: Readable = res;
      const enc = String(res.headers["content-encoding"] ?? "").toLowerCase();
      if (enc === "gzip" || enc === "x-gzip") stream = res.pipe(zlib.createGunzip());
      else if (enc === "deflate") stream = res.pipe(zlib.createInflate());
      else if (enc === "br") stream = res.pipe(zlib.createBrotliDecompress());
      stream.on("data", (c: Buffer) => {
        st.fetchBytes += c.byteLength;
        if (st.fetchBytes > b.maxFetchBytes) {
          res.destroy();
          stream.destroy();
          reject(new FetchLimit(`fetch budget exceeded: more than ${b.maxFetchBytes} response bytes`));
          return;
        }
        chunks.push(c);
      });
      stream.on("error", (e) => reject(new FetchRefused(e.message)));
      stream.on("end", () => {
        const hdrs: [string, string][] = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          const k = (res.rawHeaders[i] as string).toLowerCase();
          if (enc && (k === "content-encoding" || k === "content-length")) continue;
          hdrs.push([k, res.rawHeaders[i + 1] as string]);
        }
        // Copied into an exact buffer: a small concat may sit in Node's shared pool.
        const buf = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? "",
          headers: hdrs,
          body: new Uint8Array(buf),
        });
      });
    });
    request.end(body ?? undefined);
  });
}
