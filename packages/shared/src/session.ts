/**
 * The dashboard's session cookie, as every PiCloud process names and recognises it
 * (docs/security.md, "The session cookie"). Over HTTPS it is `__Host-picloud_session`:
 * Secure, Path=/, no Domain, so that no other host (a sibling subdomain) and no plain-HTTP
 * answer can set or shadow it. Over plain HTTP (local use) it is `picloud_session`.
 */
export const SESSION_COOKIE = "picloud_session";
export const SECURE_SESSION_COOKIE = "__Host-picloud_session";

/** The session cookie's name for a request over HTTPS or not. */
export function sessionCookieName(https: boolean): string {
  return https ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}

/**
 * Whether a request reached the platform over HTTPS: its own URL, or the
 * `X-Forwarded-Proto` a TLS-terminating proxy (Caddy) adds. A client that lies here only
 * gets a Secure cookie its browser will not keep over plain HTTP. `force` is
 * `PICLOUD_SECURE_COOKIES=true` (for a proxy that does not send the header).
 */
export function isHttpsRequest(url: string, forwardedProto: string | undefined, force = false): boolean {
  if (force || url.startsWith("https:")) return true;
  return forwardedProto?.split(",")[0]?.trim().toLowerCase() === "https";
}

/**
 * Whether a cookie name belongs to the platform: `picloud…`, with or without a `__Host-` or
 * `__Secure-` prefix, in any case. No script response may set one.
 */
export function isPlatformCookieName(name: string): boolean {
  return /^(__(host|secure)-)?picloud/i.test(name.trim());
}
