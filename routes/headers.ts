/**
 * Response headers: the security headers every response carries (`hono/secure-headers`, with a
 * strict Content-Security-Policy), and the ones answers showing session data add.
 *
 * @module
 */

import { type Context, Hono, type MiddlewareHandler, type Next } from "hono";
import { secureHeaders } from "hono/secure-headers";

/**
 * Sets the security headers on every response: `hono/secure-headers`' defaults, with a
 * Content-Security-Policy allowing nothing but the site's own stylesheet and forms posting back
 * to the site (the pages have no script at all), no framing, and `Referrer-Policy: same-origin`.
 */
export const securityHeaders: MiddlewareHandler = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  // Not `no-referrer` (the default): under it browsers send `Origin: null` with same-origin
  // form posts, which the cross-site guard must refuse. `same-origin` still sends nothing to
  // other sites.
  referrerPolicy: "same-origin",
  xFrameOptions: "DENY",
  // Nothing here sets X-Powered-By: no need to delete it from every response.
  removePoweredBy: false,
});

/**
 * The headers {@linkcode securityHeaders} sets, as `[name, value]` pairs, for the responses
 * made outside the app (the `503` of a draining instance). Read from the middleware itself, so
 * the two never differ, on first use rather than at start-up, which it would slow.
 *
 * @returns The pairs, names in lowercase.
 */
export function securityHeaderList(): Promise<ReadonlyArray<readonly [string, string]>> {
  return headerList ??= headersSetBy(securityHeaders);
}

let headerList: Promise<ReadonlyArray<readonly [string, string]>> | undefined;

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
 * Sets {@linkcode PRIVATE_HEADERS} on the answer of the routes showing session data; put it
 * after the session middleware in a route's chain, so that the session's `Cookie` follows
 * `Accept` in `Vary`.
 *
 * Set once the handler has answered rather than passed to `c.json()` and the like: Deno prepares
 * the native form of a response built with more headers than its content type at once, work
 * that the session cookie and the security headers added afterwards throw away.
 *
 * @param c The request's context.
 * @param next The route's handler.
 */
export async function privateAnswer(c: Context, next: Next): Promise<void> {
  await next();
  const headers = c.res.headers;
  for (const name in PRIVATE_HEADERS) headers.set(name, PRIVATE_HEADERS[name]!);
}

async function headersSetBy(middleware: MiddlewareHandler): Promise<[string, string][]> {
  const probe = new Hono().use(middleware).get("/", (c) => c.body(null, 204));
  return [...(await probe.request("/")).headers];
}
