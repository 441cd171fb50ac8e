/**
 * Response headers: the security headers every response carries (`hono/secure-headers`, with a
 * strict Content-Security-Policy), and the ones answers showing session data add.
 *
 * @module
 */

import { type Context, type Env, Hono, type MiddlewareHandler } from "hono";
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
 * Wraps a route's handler so that its answer carries {@linkcode PRIVATE_HEADERS}. The headers are
 * set as the handler returns, before the session middleware ahead of it in the chain adds `Cookie`
 * to `Vary`, so `Cookie` follows `Accept`.
 *
 * A wrapper rather than a middleware: every middleware adds an asynchronous step to each request.
 * The headers are set on the answer the handler made rather than passed to `c.json()` and the
 * like: Deno prepares the native form of a response built with more headers than its content type
 * at once, work that the session cookie and the security headers added afterwards throw away.
 *
 * @param handler The route's handler.
 * @returns The same handler, its answers private.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { privately } from "./headers.ts";
 *
 * const app = new Hono().get("/", privately((c) => c.text("Ada")));
 * const res = await app.request("/");
 * assert.equal(res.headers.get("cache-control"), "no-store");
 * assert.equal(res.headers.get("vary"), "Accept");
 * ```
 */
export function privately<E extends Env>(
  handler: (c: Context<E>) => Response | Promise<Response>,
): (c: Context<E>) => Response | Promise<Response> {
  return (c) => {
    const answer = handler(c);
    return answer instanceof Promise ? answer.then(setPrivate) : setPrivate(answer);
  };
}

function setPrivate(response: Response): Response {
  const headers = response.headers;
  for (const name in PRIVATE_HEADERS) headers.set(name, PRIVATE_HEADERS[name]!);
  return response;
}

async function headersSetBy(middleware: MiddlewareHandler): Promise<[string, string][]> {
  const probe = new Hono().use(middleware).get("/", (c) => c.body(null, 204));
  return [...(await probe.request("/")).headers];
}
