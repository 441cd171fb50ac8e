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
 * @param https Whether the site is served over HTTPS even when the URL says `http:` (TLS ends
 * at a proxy in front: `SESSION_COOKIE_SECURE=true`).
 * @default {false}
 * @returns `true` when `Sec-Fetch-Site` is `cross-site`, or `Origin` is present and its host
 * differs from the URL's (an opaque `Origin: null` never matches), or the site is on HTTPS
 * (its URL is `https:`, or `https` says so) and `Origin` is a plain `http:` page.
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
 * // A page injected on plain HTTP, posting to the site behind TLS.
 * assert.ok(isCrossSite(new Headers({ origin: "http://greet.example" }), "https://greet.example/greeting"));
 * ```
 */
export function isCrossSite(headers: Headers, url: string, https = false): boolean {
  if (headers.get("sec-fetch-site") === "cross-site") return true;
  const origin = headers.get("origin");
  if (origin === null) return false;
  const originHost = hostOf(origin);
  if (originHost === undefined || originHost !== hostOf(url)) return true;
  // A site on HTTPS trusts no page of its own host served over plain HTTP, which anyone on the
  // network path can write.
  return (https || url.startsWith("https:")) && origin.startsWith("http:");
}

// The host (with port) is what an attacker cannot choose; the scheme is compared apart: behind
// a TLS-terminating proxy the server sees `http://` while the browser sends `Origin: https://…`.
function hostOf(url: string): string | undefined {
  try {
    // `new URL("null")` throws, so an opaque origin has no host and never matches.
    const host = new URL(url).host;
    return host === "" ? undefined : host;
  } catch {
    return undefined;
  }
}
