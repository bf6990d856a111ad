/**
 * The platform's credentials as every PiCloud process writes and recognises them, in one
 * place (docs/security.md): the session cookie's names, bearer tokens, the prefixes of the
 * secrets it issues, and the CSRF header of cookie-authenticated writes. No Node import:
 * the dashboard reads it too (`@picloud/shared/credentials`).
 */

/**
 * The dashboard's session cookie (docs/security.md, "The session cookie"). Over HTTPS it is
 * `__Host-picloud_session`: Secure, Path=/, no Domain, so that no other host (a sibling
 * subdomain) and no plain-HTTP answer can set or shadow it. Over plain HTTP (local use) it
 * is `picloud_session`.
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

/**
 * The token of an `Authorization: Bearer <token>` header (scheme in any case), or null when
 * there is no header, another scheme, or an empty token.
 */
export function bearerToken(authorization: string | null | undefined): string | null {
  if (!authorization) return null;
  const m = /^Bearer\s+(.+)$/i.exec(authorization);
  const token = m?.[1]?.trim();
  return token ? token : null;
}

/**
 * Prefixes of the secrets the platform issues, so that each kind is recognisable at a glance
 * (and in a leaked-secret scan) and a wrong kind is refused without a lookup.
 */
export const CREDENTIAL_PREFIXES = {
  /** The admin token generated on first start. */
  admin: "pc_admin_",
  /** A dashboard session id (the cookie value). */
  session: "pc_sess_",
  /** An invoke key of a private script. */
  invokeKey: "pc_key_",
} as const;

/** Whether a presented secret is an invoke key (never the admin token or a session). */
export function isInvokeKey(secret: string): boolean {
  return secret.startsWith(CREDENTIAL_PREFIXES.invokeKey);
}

/** Whether a value has the shape of a session id (anything else is refused without a lookup). */
export function isSessionId(value: string): boolean {
  return value.startsWith(CREDENTIAL_PREFIXES.session);
}

/**
 * The header a cookie-authenticated write must carry (any value): a cross-site form cannot
 * send it, and the session cookie is SameSite=Strict as well.
 */
export const CSRF_HEADER = "x-picloud-csrf";
