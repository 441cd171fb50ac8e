/**
 * Response headers, computed once at start-up: the security headers every response carries
 * (the set `hono/secure-headers` sends, plus a strict Content-Security-Policy), and the
 * ones pages showing session data add.
 *
 * @module
 */

/**
 * The Content-Security-Policy: nothing is allowed but the site's own stylesheet, forms
 * posting back to the site, and no framing. The pages have no script at all.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** Headers set on every response, as `[name, value]` pairs. */
export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ["Content-Security-Policy", CONTENT_SECURITY_POLICY],
  ["Cross-Origin-Opener-Policy", "same-origin"],
  ["Cross-Origin-Resource-Policy", "same-origin"],
  ["Origin-Agent-Cluster", "?1"],
  // Not `no-referrer` (hono/secure-headers' default): under it browsers send `Origin: null`
  // with same-origin form posts, which the cross-site check must refuse. `same-origin` still
  // sends nothing to other sites.
  ["Referrer-Policy", "same-origin"],
  ["Strict-Transport-Security", "max-age=15552000; includeSubDomains"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-DNS-Prefetch-Control", "off"],
  ["X-Download-Options", "noopen"],
  ["X-Frame-Options", "DENY"],
  ["X-Permitted-Cross-Domain-Policies", "none"],
  ["X-XSS-Protection", "0"],
];

/**
 * Headers of responses that show session data or depend on `Accept`: never stored by a
 * cache (a shared one would hand a visitor's name to the next). The session middleware
 * adds `Cookie` to `Vary` itself when the session was used.
 */
export const PRIVATE_HEADERS: Readonly<Record<string, string>> = {
  "Cache-Control": "no-store",
  "Vary": "Accept",
};

/**
 * Sets {@linkcode SECURITY_HEADERS} on a response, replacing any earlier values.
 *
 * @param headers The response headers, changed in place.
 */
export function setSecurityHeaders(headers: Headers): void {
  for (const [name, value] of SECURITY_HEADERS) headers.set(name, value);
}
