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
 * value that a foreign session claims, another framework's cookie of the same name, is never
 * the sealed one: see `foreign.ts`.)
 *
 * @module
 */

import { assertKnownOptions, SessionConfigError, SessionTooLargeError } from "./errors.ts";

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

/** Cookie attributes as options give them: every field optional, with the defaults below. */
export interface SessionCookieOptions {
  /**
   * Send the cookie over HTTPS only. `"auto"` sets it when the request URL is `https:`, and
   * then also prefixes the name with `__Host-` (or `__Secure-` when a `domain` is set). Behind
   * a proxy that terminates TLS, the URL is `http:`: set `true`.
   * @default {"auto"}
   */
  secure?: "auto" | boolean;
  /**
   * `SameSite`. `Lax` keeps the session on top-level navigations from other sites and withholds
   * it from cross-site subrequests and form posts.
   * @default {"Lax"}
   */
  sameSite?: SameSite;
  /**
   * `Path`.
   * @default {"/"}
   */
  path?: string;
  /**
   * `Domain`. Unset keeps the cookie on the exact host (and allows the `__Host-` prefix).
   * @default {undefined}
   */
  domain?: string;
  /**
   * `HttpOnly`: hide the cookie from page scripts.
   * @default {true}
   */
  httpOnly?: boolean;
  /**
   * `Partitioned` (CHIPS), for sessions inside third-party iframes.
   * @default {false}
   */
  partitioned?: boolean;
}

/** Validated cookie attributes, `secure` still possibly `"auto"` (decided per request). */
export interface ValidatedCookie {
  /** `Secure`, or `"auto"` from the request's scheme. */
  secure: "auto" | boolean;
  /** Every other attribute. */
  attributes: Omit<CookieAttributes, "secure">;
}

const SAME_SITE: readonly SameSite[] = ["Strict", "Lax", "None"];

/** Every option of {@linkcode SessionCookieOptions}. */
const COOKIE_OPTIONS: Record<keyof SessionCookieOptions, true> = {
  secure: true,
  sameSite: true,
  path: true,
  domain: true,
  httpOnly: true,
  partitioned: true,
};

/**
 * Validates cookie attributes given as options, once, at set-up: the one check behind the
 * session's `cookie` option and any other cookie the library writes (a foreign session's).
 *
 * @param options The attributes as given.
 * @param prefix What names the options in errors, e.g. `"cookie."`.
 * @param defaultSecure `secure` when not given.
 * @default {"auto"}
 * @returns The attributes with their defaults.
 * @throws {SessionConfigError} Naming the option at fault: an unknown `sameSite`, a `path` not
 * starting with "/" or holding ";" or spaces, a `domain` that is not a host name, or
 * `sameSite: "None"` without `secure: true` (browsers refuse such a cookie, and `"auto"` leaves
 * `Secure` off on plain HTTP); of the last two,
 * `secure` is named when it was set to other than its default, else `sameSite`.
 *
 * @example Defaults, and a combination browsers refuse
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateCookie } from "./cookie.ts";
 * import { SessionConfigError } from "./errors.ts";
 *
 * assert.deepEqual(validateCookie({}, "cookie."), {
 *   secure: "auto",
 *   attributes: { path: "/", domain: undefined, httpOnly: true, sameSite: "Lax", partitioned: false },
 * });
 * assert.throws(
 *   () => validateCookie({ sameSite: "None", secure: false }, "cookie."),
 *   (error) => error instanceof SessionConfigError && error.option === "cookie.secure",
 * );
 * ```
 */
export function validateCookie(
  options: SessionCookieOptions,
  prefix: string,
  defaultSecure: "auto" | boolean = "auto",
): ValidatedCookie {
  assertKnownOptions(options, COOKIE_OPTIONS, prefix);
  const sameSite = options.sameSite ?? "Lax";
  if (!SAME_SITE.includes(sameSite)) {
    throw new SessionConfigError(
      `${prefix}sameSite`,
      `must be "Strict", "Lax" or "None", received ${JSON.stringify(sameSite)}`,
    );
  }
  const secure = options.secure ?? defaultSecure;
  if (secure !== "auto" && typeof secure !== "boolean") {
    throw new SessionConfigError(
      `${prefix}secure`,
      `must be "auto", true or false, received ${JSON.stringify(secure)}`,
    );
  }
  if (sameSite === "None" && secure !== true) {
    // Name the option that departs from its default: that is the one the caller chose.
    const given = options.secure !== undefined && options.secure !== defaultSecure;
    throw new SessionConfigError(
      `${prefix}${given ? "secure" : "sameSite"}`,
      given
        ? `must be true with sameSite "None", received ${
          JSON.stringify(secure)
        }: browsers refuse a SameSite=None cookie without Secure ("auto" leaves it off on plain HTTP)`
        : `is "None", which browsers accept only on a Secure cookie: set ${prefix}secure: true ("auto" leaves Secure off on plain HTTP)`,
    );
  }
  const path = options.path ?? "/";
  if (typeof path !== "string" || !path.startsWith("/") || /[;\s]/.test(path)) {
    throw new SessionConfigError(
      `${prefix}path`,
      `must start with "/" and hold no ";" or spaces, received ${JSON.stringify(path)}`,
    );
  }
  const { domain } = options;
  if (domain !== undefined && !/^\.?[A-Za-z0-9.-]+$/.test(domain)) {
    throw new SessionConfigError(
      `${prefix}domain`,
      `must be a host name, received ${JSON.stringify(domain)}`,
    );
  }
  return {
    secure,
    attributes: {
      path,
      domain,
      httpOnly: options.httpOnly ?? true,
      sameSite,
      partitioned: options.partitioned ?? false,
    },
  };
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
 * Calls `visit` with each `name=value` pair of a `Cookie` header, in order: names and values
 * trimmed, a double-quoted value unquoted. Parts without `=` are skipped. The one parser of the
 * `Cookie` header: the sealed cookie and any foreign one are found through it.
 *
 * @param header The `Cookie` request header.
 * @param visit Called for each pair.
 *
 * @example Listing the cookies of a header
 * ```ts
 * import assert from "node:assert/strict";
 * import { forEachCookie } from "./cookie.ts";
 *
 * const pairs: string[] = [];
 * forEachCookie('a=1; b = "two" ;junk; c=x=y', (name, value) => pairs.push(`${name}:${value}`));
 * assert.deepEqual(pairs, ["a:1", "b:two", "c:x=y"]);
 * ```
 */
export function forEachCookie(header: string, visit: (name: string, value: string) => void): void {
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1);
    }
    visit(part.slice(0, eq).trim(), value);
  }
}

/**
 * Finds the session cookie, or its chunks, in a `Cookie` header. When a name repeats, the first
 * wins, as in browsers' ordering (most specific path first), except that a value `foreign`
 * claims (another framework's cookie of the same name) loses to one it does not claim, and is
 * never the value. When both a single cookie and chunks are present, the single cookie is read
 * and the chunks are reported `stale`.
 *
 * @param header The `Cookie` request header.
 * @param name The session cookie name.
 * @param maxBytes Refuse to join more than this many characters (an oversized header).
 * @param foreign Tells the values that belong to a foreign session, if one is configured.
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
  foreign?: (value: string) => boolean,
): RequestCookies {
  const names: string[] = [];
  if (!header || !header.includes(name)) {
    return { value: undefined, names, stale: [], oversized: false };
  }
  const theirs = foreign ?? claimsNothing;
  let single: string | undefined;
  let chunks: Map<number, string> | undefined;
  const prefix = name + ".";
  forEachCookie(header, (key, value) => {
    if (key === name) {
      if (single === undefined) {
        single = value;
        names.push(key);
      } else if (theirs(single) && value !== "" && !theirs(value)) {
        // A foreign cookie of the same name but another domain or path is sent too: the value
        // it does not claim is the session, wherever it comes.
        single = value;
      }
      return;
    }
    if (!key.startsWith(prefix)) return;
    const index = key.slice(prefix.length);
    if (!/^(0|[1-9][0-9]?)$/.test(index)) return;
    chunks ??= new Map();
    if (!chunks.has(Number(index))) {
      chunks.set(Number(index), value);
      names.push(key);
    }
  });
  let value = single !== undefined && theirs(single) ? undefined : single;
  let stale: string[] = [];
  if (chunks !== undefined) {
    if (value) {
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

/** No foreign session configured: no value is another framework's. */
const claimsNothing = (): boolean => false;

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
 * import { cookieHeaderBytes } from "./cookie.ts";
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
 * import { planSessionCookies } from "./cookie.ts";
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
