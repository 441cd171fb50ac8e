/**
 * Reading the session cookie from a request's `Cookie` header, its chunks joined. Pure: no Hono
 * types, only strings.
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
 * the sealed one: see `middleware/foreign.ts`.)
 *
 * @module
 */

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
 * import { forEachCookie } from "./read.ts";
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
 * import { readSessionCookies } from "./read.ts";
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
