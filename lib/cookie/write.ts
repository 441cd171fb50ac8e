/**
 * Writing the session cookie: `Set-Cookie` text, a value cut into chunks when it does not fit in
 * one cookie, the cookie budget, and deletion. Pure: no Hono types, only strings.
 *
 * @module
 */

import { SessionTooLargeError } from "../common/errors.ts";
import type { CookieAttributes } from "./attributes.ts";

/** Most bytes a browser keeps for one cookie: name, value and attributes. */
export const MAX_COOKIE_BYTES = 4096;

/**
 * Serialises one `Set-Cookie` header value.
 *
 * @param name Cookie name.
 * @param value Cookie value (already safe: base64url).
 * @param attributes Attributes.
 * @param maxAge Seconds until the browser drops it; 0 deletes it; undefined writes no `Max-Age`
 * (a browser-session cookie, dropped when the browser closes).
 * @returns The header value.
 *
 * @example A session cookie for one minute
 * ```ts
 * import assert from "node:assert/strict";
 * import { serializeCookie } from "./write.ts";
 *
 * const header = serializeCookie("session", "abc", {
 *   path: "/",
 *   secure: false,
 *   httpOnly: true,
 *   sameSite: "Lax",
 * }, 60);
 * assert.equal(header, "session=abc; Max-Age=60; Path=/; HttpOnly; SameSite=Lax");
 * ```
 */
export function serializeCookie(
  name: string,
  value: string,
  attributes: CookieAttributes,
  maxAge: number | undefined,
): string {
  if (maxAge === undefined) return `${name}=${value}${attributeText(attributes)}`;
  return `${name}=${value}; Max-Age=${Math.max(0, Math.floor(maxAge))}${attributeText(attributes)}`;
}

/**
 * The attribute part of a session cookie, after `Max-Age`.
 *
 * @param attributes Attributes.
 * @returns Text starting with `; `.
 *
 * @example The attributes every session cookie carries
 * ```ts
 * import assert from "node:assert/strict";
 * import { attributeText } from "./write.ts";
 *
 * const text = attributeText({ path: "/", secure: true, httpOnly: true, sameSite: "Lax" });
 * assert.equal(text, "; Path=/; Secure; HttpOnly; SameSite=Lax");
 * ```
 */
export function attributeText(attributes: CookieAttributes): string {
  let text = `; Path=${attributes.path}`;
  if (attributes.domain) text += `; Domain=${attributes.domain}`;
  if (attributes.secure) text += "; Secure";
  if (attributes.httpOnly) text += "; HttpOnly";
  text += `; SameSite=${attributes.sameSite}`;
  if (attributes.partitioned) text += "; Partitioned";
  return text;
}

/**
 * Bytes the session's cookies add to every request's `Cookie` header when no other limit is
 * set: with 1 KiB of the site's other cookies, the header still fits the stock limits of nginx
 * (`large_client_header_buffers 4 8k`: one header line in 8 KiB) and haproxy (`tune.bufsize`
 * 16 KiB for the whole request head), with room to spare.
 */
export const DEFAULT_MAX_COOKIE_BYTES = 6144;

/** How a sealed value of some length is laid out in cookies. */
interface Layout {
  /** One cookie, or this many chunks. */
  chunks: number;
  /** Characters of each chunk (the last may be shorter). */
  room: number;
  /** Bytes the cookies add to a request's `Cookie` header: `name=value` pairs and `; `. */
  headerBytes: number;
}

/** The cookies a value of `length` characters needs (chunks: 0 for one plain cookie). */
function layout(
  name: string,
  length: number,
  attributes: CookieAttributes,
  maxAge: number | undefined,
): Layout {
  // Each Set-Cookie header: the name, "=", the value, then Max-Age and the attributes.
  const after = attributeText(attributes).length +
    (maxAge === undefined
      ? 0
      : "; Max-Age=".length + String(Math.max(0, Math.floor(maxAge))).length);
  const single = name.length + 1 + length;
  if (single + after <= MAX_COOKIE_BYTES) return { chunks: 0, room: length, headerBytes: single };
  // Each chunk repeats the name, with an index of up to two digits.
  const room = MAX_COOKIE_BYTES - (name.length + 4 + after);
  if (room <= 0) return { chunks: Infinity, room: 0, headerBytes: Infinity };
  const chunks = Math.ceil(length / room);
  let headerBytes = length + 2 * (chunks - 1);
  for (let i = 0; i < chunks; i++) headerBytes += name.length + (i < 10 ? 3 : 4);
  return { chunks, room, headerBytes };
}

/**
 * Bytes the session cookies of a sealed value add to a request's `Cookie` header, whether it
 * fits in one cookie or needs chunks: what `maxCookieBytes` bounds.
 *
 * @param name Cookie name.
 * @param length Characters of the sealed value.
 * @param attributes Attributes (they count towards each cookie's 4096 bytes).
 * @param maxAge `Max-Age` written, if any.
 * @returns The bytes.
 *
 * @example A small value and a chunked one
 * ```ts
 * import assert from "node:assert/strict";
 * import { cookieHeaderBytes } from "./write.ts";
 *
 * const attrs = { path: "/", secure: false, httpOnly: true, sameSite: "Lax" as const };
 * assert.equal(cookieHeaderBytes("session", 150, attrs, 60), "session=".length + 150);
 * // Two chunks: "session.0=…; session.1=…".
 * assert.equal(cookieHeaderBytes("session", 6000, attrs, 60), 6000 + 2 * "session.0=".length + 2);
 * ```
 */
export function cookieHeaderBytes(
  name: string,
  length: number,
  attributes: CookieAttributes,
  maxAge: number | undefined,
): number {
  return layout(name, length, attributes, maxAge).headerBytes;
}

/**
 * The error of a session whose cookies would exceed the budget.
 *
 * @param needed Bytes they would add to the `Cookie` header.
 * @param budget The `maxCookieBytes` allowed.
 * @returns The error.
 */
export function tooLargeForCookies(needed: number, budget: number): SessionTooLargeError {
  return new SessionTooLargeError(
    needed,
    budget,
    "in the Cookie header",
    "raise maxCookieBytes, with the header limits of the proxies in front (see docs/library.md)",
  );
}

/**
 * Plans the `Set-Cookie` headers that store a sealed value: one cookie when it fits in
 * {@linkcode MAX_COOKIE_BYTES}, else chunks, plus deletions of the request's cookies that the
 * new value no longer uses (a stale larger chunk set, or the single cookie after chunking).
 *
 * @param name Cookie name.
 * @param value The sealed value.
 * @param attributes Attributes.
 * @param maxAge Seconds until the browser drops the cookies; undefined for browser-session
 * cookies (no `Max-Age`).
 * @param maxCookieBytes Most bytes the cookies may add to a request's `Cookie` header.
 * @param present Names of the session cookies the request carried.
 * @returns `Set-Cookie` header values.
 * @throws {SessionTooLargeError} When the cookies would add more than `maxCookieBytes`.
 *
 * @example A large value split into two chunks
 * ```ts
 * import assert from "node:assert/strict";
 * import { planSessionCookies } from "./write.ts";
 *
 * const attrs = { path: "/", secure: false, httpOnly: true, sameSite: "Lax" as const };
 * const headers = planSessionCookies("session", "x".repeat(6000), attrs, 60, 8192, []);
 * assert.equal(headers.length, 2);
 * assert.throws(() => planSessionCookies("session", "x".repeat(6000), attrs, 60, 6000, []));
 * ```
 */
export function planSessionCookies(
  name: string,
  value: string,
  attributes: CookieAttributes,
  maxAge: number | undefined,
  maxCookieBytes: number,
  present: readonly string[],
): string[] {
  const { chunks, room, headerBytes } = layout(name, value.length, attributes, maxAge);
  if (headerBytes > maxCookieBytes) throw tooLargeForCookies(headerBytes, maxCookieBytes);
  const headers: string[] = [];
  const written = new Set<string>();
  if (chunks === 0) {
    headers.push(serializeCookie(name, value, attributes, maxAge));
    written.add(name);
  }
  for (let i = 0; i < chunks; i++) {
    headers.push(
      serializeCookie(`${name}.${i}`, value.slice(i * room, (i + 1) * room), attributes, maxAge),
    );
    written.add(`${name}.${i}`);
  }
  for (const stale of present) {
    if (!written.has(stale)) headers.push(serializeCookie(stale, "", attributes, 0));
  }
  return headers;
}

/**
 * `Set-Cookie` headers that delete every session cookie the request carried, and the plain
 * name even if it was not sent (so a logout always says so).
 *
 * @param name Cookie name.
 * @param attributes Attributes (a deletion must match the cookie's path and domain).
 * @param present Names of the session cookies the request carried.
 * @returns `Set-Cookie` header values.
 *
 * @example Deleting a chunked cookie and its chunks
 * ```ts
 * import assert from "node:assert/strict";
 * import { deletionCookies } from "./write.ts";
 *
 * const attrs = { path: "/", secure: false, httpOnly: true, sameSite: "Lax" as const };
 * assert.equal(deletionCookies("session", attrs, ["session.0", "session.1"]).length, 3);
 * ```
 */
export function deletionCookies(
  name: string,
  attributes: CookieAttributes,
  present: readonly string[],
): string[] {
  const names = new Set([name, ...present]);
  return [...names].map((n) => serializeCookie(n, "", attributes, 0));
}
