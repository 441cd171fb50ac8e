/**
 * Reading and writing the session cookie, split into chunks when the sealed value does not fit
 * in one. Pure: no Hono types, only strings.
 *
 * A value that fits is written as `name=value`. A larger one is split into `name.0`,
 * `name.1`, … and read back by joining consecutive chunks from `name.0`.
 *
 * When a request carries both forms (`name` and `name.0`), the single cookie is read and the
 * chunks are stale. Which form was written last cannot be known from the request (two
 * responses racing, or a lost deletion, leave either one behind), so the rule favours the form
 * that cannot be torn: a single cookie arrives whole from one `Set-Cookie`, while a chunk set is
 * several cookies that browsers may evict or store only in part, and that two racing responses
 * may interleave. The losing form is expired by the next response that uses the session. (A
 * single value holding a `.` is not a sealed value but a Flask cookie of the same name: chunks
 * win over it.)
 *
 * @module
 */

import { SessionConfigError, SessionTooLargeError } from "./errors.ts";

/** Most bytes a browser keeps for one cookie: name, value and attributes. */
export const MAX_COOKIE_BYTES = 4096;

/** `SameSite` values. */
export type SameSite = "Strict" | "Lax" | "None";

/** Attributes written on every session cookie. */
export interface CookieAttributes {
  /** `Path`. */
  path: string;
  /** `Domain`; none by default, so the cookie stays on one host. */
  domain?: string | undefined;
  /** `Secure`. */
  secure: boolean;
  /** `HttpOnly`. */
  httpOnly: boolean;
  /** `SameSite`. */
  sameSite: SameSite;
  /** `Partitioned` (CHIPS). */
  partitioned?: boolean | undefined;
}

/** The session cookies found in a request. */
export interface RequestCookies {
  /** The sealed value, joined from chunks when chunked; undefined when absent. */
  value: string | undefined;
  /** Names of every session cookie the browser sent (`name` and any `name.N`). */
  names: string[];
  /** Names of the form that was not read when both were sent: to be expired. */
  stale: string[];
  /** True when the value was longer than allowed; it is then left out, unread. */
  oversized: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Checks that a cookie name is an RFC 6265 token.
 *
 * @param name The name.
 * @param option The option name to put in messages.
 * @throws {SessionConfigError} When it is not.
 *
 * @example Accepting a valid name and refusing one with a space
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertCookieName } from "./cookie.ts";
 * import { SessionConfigError } from "./errors.ts";
 *
 * assertCookieName("session", "cookieName");
 * assert.throws(() => assertCookieName("my session", "cookieName"), SessionConfigError);
 * ```
 */
export function assertCookieName(name: string, option: string): void {
  if (typeof name !== "string" || !TOKEN.test(name)) {
    throw new SessionConfigError(
      option,
      `cookie name must be a non-empty token (letters, digits, and !#$%&'*+-.^_\`|~), received ${
        JSON.stringify(name)
      }`,
    );
  }
}

/**
 * Finds the session cookie, or its chunks, in a `Cookie` header. When a name repeats, the first
 * wins, as in browsers' ordering (most specific path first), except that a value without a "."
 * wins over one with (a Flask cookie of the same name). When both a single cookie and chunks are
 * present, the single cookie is read and the chunks are reported `stale`.
 *
 * @param header The `Cookie` request header.
 * @param name The session cookie name.
 * @param maxBytes Refuse to join more than this many characters (an oversized header).
 * @returns The value and the names present.
 *
 * @example Joining chunks sent out of order
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSessionCookies } from "./cookie.ts";
 *
 * const found = readSessionCookies("a=1; session.1=cd; session.0=ab", "session", 8192);
 * assert.equal(found.value, "abcd");
 * // Both forms at once: the single cookie is read, the chunks are to be expired.
 * const both = readSessionCookies("session.0=ab; session=xy", "session", 8192);
 * assert.deepEqual([both.value, both.stale], ["xy", ["session.0"]]);
 * ```
 */
export function readSessionCookies(
  header: string | null | undefined,
  name: string,
  maxBytes: number,
): RequestCookies {
  const names: string[] = [];
  if (!header || !header.includes(name)) {
    return { value: undefined, names, stale: [], oversized: false };
  }
  let single: string | undefined;
  let chunks: Map<number, string> | undefined;
  const prefix = name + ".";
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    if (key !== name && !key.startsWith(prefix)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1);
    }
    if (key === name) {
      if (single === undefined) {
        single = value;
        names.push(key);
      } else if (single.includes(".") && value !== "" && !value.includes(".")) {
        // A Flask cookie of the same name but another domain or path is sent too: a value
        // that may be sealed (base64url, never a ".") is the session, wherever it comes.
        single = value;
      }
      continue;
    }
    const index = key.slice(prefix.length);
    if (!/^(0|[1-9][0-9]?)$/.test(index)) continue;
    chunks ??= new Map();
    if (!chunks.has(Number(index))) {
      chunks.set(Number(index), value);
      names.push(key);
    }
  }
  let value = single;
  let stale: string[] = [];
  if (chunks !== undefined) {
    // A single value holding a "." is no sealed value (those are base64url) but Flask's, left
    // under the same name: the chunks are the session then.
    if (single && !single.includes(".")) {
      // Both forms: the single cookie wins (see the module documentation for why).
      stale = names.filter((n) => n !== name);
    } else if (chunks.has(0)) {
      value = "";
      for (let i = 0; chunks.has(i); i++) value += chunks.get(i)!;
      if (single !== undefined) stale = [name];
    }
  }
  // An oversized value is refused before any decoding.
  const oversized = value !== undefined && value.length > maxBytes;
  return { value: value === "" || oversized ? undefined : value, names, stale, oversized };
}

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
 * import { serializeCookie } from "./cookie.ts";
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
 * import { attributeText } from "./cookie.ts";
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
 * Plans the `Set-Cookie` headers that store a sealed value: one cookie when it fits in
 * {@linkcode MAX_COOKIE_BYTES}, else chunks, plus deletions of the request's cookies that the
 * new value no longer uses (a stale larger chunk set, or the single cookie after chunking).
 *
 * @param name Cookie name.
 * @param value The sealed value.
 * @param attributes Attributes.
 * @param maxAge Seconds until the browser drops the cookies; undefined for browser-session
 * cookies (no `Max-Age`).
 * @param maxChunks Most cookies allowed.
 * @param present Names of the session cookies the request carried.
 * @returns `Set-Cookie` header values.
 * @throws {SessionTooLargeError} When the value needs more than `maxChunks` cookies.
 *
 * @example A large value split into two chunks
 * ```ts
 * import assert from "node:assert/strict";
 * import { planSessionCookies } from "./cookie.ts";
 *
 * const attrs = { path: "/", secure: false, httpOnly: true, sameSite: "Lax" as const };
 * const headers = planSessionCookies("session", "x".repeat(6000), attrs, 60, 4, []);
 * assert.equal(headers.length, 2);
 * ```
 */
export function planSessionCookies(
  name: string,
  value: string,
  attributes: CookieAttributes,
  maxAge: number | undefined,
  maxChunks: number,
  present: readonly string[],
): string[] {
  const single = serializeCookie(name, value, attributes, maxAge);
  const headers: string[] = [];
  const written = new Set<string>();
  if (single.length <= MAX_COOKIE_BYTES) {
    headers.push(single);
    written.add(name);
  } else {
    const overhead = serializeCookie(`${name}.${maxChunks}`, "", attributes, maxAge).length;
    const room = MAX_COOKIE_BYTES - overhead;
    const count = room > 0 ? Math.ceil(value.length / room) : Infinity;
    if (count > maxChunks) {
      // Every chunk repeats the name and attributes, so the overhead counts once per chunk.
      const needed = value.length + (room > 0 ? count : maxChunks + 1) * overhead;
      throw new SessionTooLargeError(needed, maxChunks * MAX_COOKIE_BYTES);
    }
    for (let i = 0; i < count; i++) {
      headers.push(
        serializeCookie(`${name}.${i}`, value.slice(i * room, (i + 1) * room), attributes, maxAge),
      );
      written.add(`${name}.${i}`);
    }
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
 * import { deletionCookies } from "./cookie.ts";
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
