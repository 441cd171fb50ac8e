/**
 * The cross-site guard, as Hono middleware: a state-changing request made by a page of another
 * site ({@linkcode isCrossSite}) is answered `403` before any route or session sees it.
 *
 * Not `hono/csrf`, whose rules differ: it refuses clients that send neither `Origin` nor
 * `Sec-Fetch-Site` (curl, other servers), lets `Sec-Fetch-Site: cross-site` through when
 * `Origin` matches, checks form content types only, and compares origins with their scheme,
 * which behind a TLS-terminating proxy never match.
 *
 * @module
 */

import type { Context, Next } from "hono";
import { discardBody } from "./body.ts";
import { sendMessage } from "./messages.ts";
import { isCrossSite } from "./origin.ts";

/**
 * The methods the guard is for, those that change state (a cross-site GET changes nothing):
 * `app.on(UNSAFE_METHODS, "*", crossSiteGuard)`, so that other requests do not even pass
 * through it.
 */
export const UNSAFE_METHODS: string[] = ["POST", "PUT", "PATCH", "DELETE"];

/**
 * Makes the guard that refuses cross-site requests with `403`, in the format the client asked
 * for, after reading and throwing away their body within the body deadline
 * ({@linkcode discardBody}): a client still sending it would otherwise see the connection reset
 * instead of the answer. It checks every request it sees: route only the
 * {@linkcode UNSAFE_METHODS} to it.
 *
 * @param options `https`: the site is on HTTPS even where its URLs say `http:` (TLS ends at a
 * proxy), so a plain-HTTP page of its own host counts as another site. `bodyTimeoutMs`: the
 * longest the refused body is read, in milliseconds (default 10 s).
 * @default {{ https: false }}
 * @returns The middleware.
 *
 * @example A form posted from another site
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { crossSiteGuard, UNSAFE_METHODS } from "./cross_site.ts";
 *
 * const app = new Hono().on(UNSAFE_METHODS, "*", crossSiteGuard()).post("/", (c) => c.text("saved"));
 * const res = await app.request("/", {
 *   method: "POST",
 *   headers: { origin: "https://evil.example", accept: "text/plain" },
 *   body: "name=Mallory",
 * });
 * assert.equal(res.status, 403);
 * assert.equal((await app.request("/", { method: "POST" })).status, 200);
 * ```
 */
export function crossSiteGuard(
  options: { https?: boolean; bodyTimeoutMs?: number | undefined } = {},
): (c: Context, next: Next) => Promise<Response | void> {
  const https = options.https === true;
  const discardOptions = { timeoutMs: options.bodyTimeoutMs };
  return async function crossSiteGuard(c, next) {
    const request = c.req.raw;
    if (!isCrossSite(request.headers, request.url, https)) return await next();
    await discardBody(request, discardOptions);
    return sendMessage(c, 403, "Cross-site request refused", [
      "This form was submitted from another site, so it was refused.",
      "Submit it from this site's own pages instead.",
    ]);
  };
}
