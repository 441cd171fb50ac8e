/**
 * Refuses cross-site state-changing requests, the browser-side half of CSRF protection (the
 * other half is the `SameSite=Lax` session cookie). Browsers label every POST with `Origin`
 * and, since 2020, `Sec-Fetch-Site`; a request carrying neither comes from a non-browser
 * client (curl, another server), which cannot ride on a visitor's cookies, so it is let
 * through.
 *
 * @module
 */

/**
 * Tells whether a request was made by a page of another site.
 *
 * @param headers The request headers.
 * @param url The request URL; its host is the one `Origin` must match.
 * @returns `true` when `Sec-Fetch-Site` is `cross-site`, or `Origin` is present and its host
 * differs from the URL's (an opaque `Origin: null` never matches).
 *
 * @example A cross-site form post and a same-origin one
 * ```ts
 * import assert from "node:assert/strict";
 * import { isCrossSite } from "./origin.ts";
 *
 * // An attacker's page auto-submitting a form to us.
 * const headers = new Headers({ origin: "https://evil.example" });
 * assert.ok(isCrossSite(headers, "https://greet.example/greeting"));
 * assert.equal(isCrossSite(new Headers(), "https://greet.example/greeting"), false);
 * ```
 */
export function isCrossSite(headers: Headers, url: string): boolean {
  if (headers.get("sec-fetch-site") === "cross-site") return true;
  const origin = headers.get("origin");
  if (origin === null) return false;
  const originHost = hostOf(origin);
  return originHost === undefined || originHost !== hostOf(url);
}

// The scheme is left out on purpose: behind a TLS-terminating proxy the server sees
// `http://` while the browser sends `Origin: https://…`. The host (with port) is what an
// attacker cannot choose.
function hostOf(url: string): string | undefined {
  try {
    // `new URL("null")` throws, so an opaque origin has no host and never matches.
    const host = new URL(url).host;
    return host === "" ? undefined : host;
  } catch {
    return undefined;
  }
}
