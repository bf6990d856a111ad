import { isPlatformCookieName } from "@picloud/shared";
import { HOP_BY_HOP } from "./body.ts";

/**
 * Sent with every script answer served on the platform's own origin: the document runs in
 * an opaque origin (no `allow-same-origin`), so its JavaScript can reach none of the
 * platform's cookies, storage, API or service workers, while it can still run scripts,
 * submit forms and open pop-ups (docs/security.md, "Script output").
 */
export const SCRIPT_SANDBOX_CSP =
  "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads allow-pointer-lock";

/** Headers a script may never send: each would act on the whole origin, the platform's included. */
const ORIGIN_WIDE = new Map([
  ["service-worker-allowed", "would widen a service worker's scope beyond the script"],
  ["clear-site-data", "would clear the platform's cookies and storage"],
]);

/** A header taken out of a script's answer, and why. */
export interface DroppedHeader {
  name: string;
  reason: string;
  /** For a Set-Cookie: the cookie's name. */
  cookie?: string;
}

/**
 * The name a browser files a `Set-Cookie` value under. A value without `=` is a nameless
 * cookie; a nameless cookie whose value looks like `name=value` is sent back by browsers as
 * exactly that, so it counts as `name`.
 */
export function setCookieName(value: string): string {
  const pair = value.split(";")[0] ?? "";
  const eq = pair.indexOf("=");
  const name = eq === -1 ? "" : pair.slice(0, eq).trim();
  if (name) return name;
  const rest = eq === -1 ? pair : pair.slice(eq + 1);
  const inner = rest.indexOf("=");
  return (inner === -1 ? rest : rest.slice(0, inner)).trim();
}

/**
 * The headers of a script's answer as PiCloud sends them: hop-by-hop headers and the length
 * go (the server frames the body), and so does anything that would act with the platform's
 * authority — a `Set-Cookie` of a platform cookie (any name the platform uses, any path or
 * domain, nameless tricks included), `Service-Worker-Allowed` and `Clear-Site-Data`.
 */
export function scriptHeaders(raw: [string, string][], dropped: DroppedHeader[] = []): Headers {
  const headers = new Headers();
  for (const [k, v] of raw) {
    const name = k.toLowerCase();
    if (HOP_BY_HOP.has(name) || name === "content-length") continue;
    const why = ORIGIN_WIDE.get(name);
    if (why) {
      dropped.push({ name, reason: why });
      continue;
    }
    if (name === "set-cookie") {
      const cookie = setCookieName(v);
      if (isPlatformCookieName(cookie)) {
        dropped.push({ name, cookie, reason: "the cookie name is the platform's" });
        continue;
      }
    }
    headers.append(k, v);
  }
  return headers;
}

/** Adds the sandbox policy to an answer, alongside any policy the script set itself. */
export function sandboxScriptAnswer(res: Response): Response {
  res.headers.append("content-security-policy", SCRIPT_SANDBOX_CSP);
  return res;
}
