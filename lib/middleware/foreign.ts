/**
 * The seam between the middleware and a foreign session cookie (another framework's, such as
 * Flask's): how to find one in a request, tell its values from sealed ones, read it, and write
 * or clear it. The middleware knows only this interface and takes an implementation as the
 * `foreign` option; `lib/flask/bridge.ts` implements it for Flask (`flaskMigration()`,
 * `flaskShared()` from `./flask`).
 *
 * @module
 */

import type { CookieAttributes } from "../cookie/attributes.ts";

/** A foreign session's contents, as the middleware takes and gives them. */
export interface ForeignSessionData {
  /** The session data. */
  data: Record<string, unknown>;
  /** Flash values, read once. */
  flash?: Record<string, unknown> | undefined;
  /** Whether its cookie outlives the browser; undefined counts as persistent. */
  persistent?: boolean | undefined;
  /**
   * What tells this very cookie apart from others (16 bytes, e.g. a digest of its value), so
   * that a migration can remember it was used and refuse a copy later. Read cookies only.
   */
  id?: Uint8Array | undefined;
  /**
   * When the foreign app wrote it, Unix seconds: a migration refuses it when the revocation
   * list's cut-off is later. Read cookies only.
   */
  issuedAt?: number | undefined;
  /** Until when it is valid, Unix seconds (how long its `id` must be remembered). */
  expiresAt?: number | undefined;
}

/**
 * A foreign session cookie the middleware reads, and writes or clears.
 *
 * @example A foreign cookie holding plain JSON (for tests only: it is not signed)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ForeignSession } from "./foreign.ts";
 *
 * const plain: ForeignSession = {
 *   mode: "migrate",
 *   find: (header) => header?.match(/(?:^|; )old=([^;]*)/)?.[1],
 *   claims: (value) => value.startsWith("%7B"),
 *   read: (value) => Promise.resolve({ data: JSON.parse(decodeURIComponent(value)), persistent: true }),
 *   write: (session) => Promise.resolve(`old=${encodeURIComponent(JSON.stringify(session.data))}`),
 *   clear: () => "old=; Max-Age=0; Path=/",
 *   isCookie: (name) => name === "old",
 * };
 * const value = plain.find("a=1; old=%7B%22name%22%3A%22Ada%22%7D")!;
 * assert.deepEqual((await plain.read(value, Date.now()))?.data, { name: "Ada" });
 * ```
 */
export interface ForeignSession {
  /**
   * `migrate`: a request with no sealed session but a valid foreign cookie gets its data as a
   * new sealed session, and every response that uses the session clears the foreign cookie.
   * `shared`: the session is read from and written to the foreign cookie; no sealed cookie.
   */
  readonly mode: "migrate" | "shared";
  /**
   * Finds the foreign cookie in a request.
   *
   * @param cookieHeader The `Cookie` request header.
   * @returns Its value, or undefined when the request carries none.
   */
  find(cookieHeader: string | undefined): string | undefined;
  /**
   * Whether a value of a cookie with the sealed cookie's own name is this foreign session's
   * (when both frameworks use one name, the browser may send both cookies). Such a value is
   * never opened as a sealed one, and loses to one that is not claimed.
   *
   * @param value A cookie value.
   * @returns True when it is the foreign session's.
   */
  claims(value: string): boolean;
  /**
   * Verifies and reads a foreign cookie.
   *
   * @param value The value {@linkcode ForeignSession.find} returned.
   * @param now Current time in milliseconds.
   * @returns The session, or undefined when the value does not verify.
   */
  read(value: string, now: number): Promise<ForeignSessionData | undefined>;
  /**
   * Writes a session to the foreign cookie (`shared` mode).
   *
   * @param session The session to write.
   * @param now Current time in milliseconds.
   * @returns The `Set-Cookie` header value.
   * @throws {SessionTooLargeError} When it does not fit in the cookie.
   */
  write(session: ForeignSessionData, now: number): Promise<string>;
  /**
   * Clears the foreign cookie.
   *
   * @returns The `Set-Cookie` header value that deletes it.
   */
  clear(): string;
  /**
   * Whether the foreign cookie is the very cookie of this name and these attributes (then
   * writing or deleting that cookie replaces it).
   *
   * @param name A cookie name.
   * @param attributes Its attributes.
   * @returns True when they are one cookie.
   */
  isCookie(name: string, attributes: CookieAttributes): boolean;
}
