/**
 * The bridge from Flask's session cookie to sealed sessions, for the `foreign` option of
 * `session()`: read a Flask cookie once and move its data into a sealed session
 * ({@linkcode flaskMigration}), or keep reading and writing the Flask cookie itself so a Flask
 * app and this service share one session during a gradual move ({@linkcode flaskShared}). It
 * implements the middleware's {@linkcode ForeignSession} seam; the Flask codec is loaded only
 * when a bridge is made.
 *
 * @module
 */

import { attributeText, MAX_COOKIE_BYTES, serializeCookie } from "../cookie/write.ts";
import { type CookieAttributes, type SameSite, validateCookie } from "../cookie/attributes.ts";
import { forEachCookie } from "../cookie/read.ts";
import { assertKnownOptions, SessionConfigError, SessionTooLargeError } from "../common/errors.ts";
import type { ForeignSession, ForeignSessionData } from "../middleware/foreign.ts";
import { decodeBase64Url, encodeBase64, encodeBase64Url } from "./_base64.ts";
import { PERMANENT_SESSION_LIFETIME } from "./_lifetime.ts";
import type { FlaskCookieOptions } from "./codec.ts";

/** Options of {@linkcode flaskMigration} and {@linkcode flaskShared}: the Flask app's settings. */
export interface FlaskSessionOptions {
  /** Flask's `SECRET_KEY` first, then its `SECRET_KEY_FALLBACKS`. */
  secretKeys: readonly (string | Uint8Array)[];
  /**
   * Flask's `SESSION_COOKIE_NAME`.
   * @default {"session"}
   */
  cookieName?: string;
  /**
   * Flask's `PERMANENT_SESSION_LIFETIME`, in seconds.
   * @default {2678400} (31 days)
   */
  maxAge?: number;
  /**
   * Flask's `SESSION_COOKIE_PATH`. The Flask cookie is written and deleted with it: a deletion
   * with another path leaves the cookie in place.
   * @default {"/"}
   */
  path?: string;
  /**
   * Flask's `SESSION_COOKIE_DOMAIN`: set it exactly as Flask does (e.g. `".example.com"`), or a
   * Flask cookie scoped to a domain is never deleted, and a logout does not hold.
   * @default {undefined} (host-only, Flask's default)
   */
  domain?: string;
  /**
   * Flask's `SESSION_COOKIE_SECURE`. A cookie Flask set with `Secure` can only be replaced or
   * deleted by a `Secure` one.
   * @default {false}
   */
  secure?: boolean;
  /**
   * Flask's `SESSION_COOKIE_SAMESITE`. Flask's default (`None` in Python) writes no attribute;
   * written here as `Lax`, what browsers assume for a cookie without one. `"None"` needs `secure`.
   * @default {"Lax"}
   */
  sameSite?: SameSite;
}

/** Every option of {@linkcode FlaskSessionOptions}. */
const FLASK_OPTIONS: Record<keyof FlaskSessionOptions, true> = {
  secretKeys: true,
  cookieName: true,
  maxAge: true,
  path: true,
  domain: true,
  secure: true,
  sameSite: true,
};

/** Normalised bridge settings. */
interface FlaskBridgeSettings {
  mode: "migrate" | "shared";
  cookieName: string;
  codec: FlaskCookieOptions;
  attributes: CookieAttributes;
  maxAge: number;
}

type FlaskCodec = typeof import("./codec.ts");
let codec: Promise<FlaskCodec> | undefined;

/**
 * The Flask codec, imported on first need: sessions without the bridge never load it (nor the
 * `node:zlib` and `node:crypto` it uses), and a configured bridge starts loading it at set-up.
 */
function flaskCodec(): Promise<FlaskCodec> {
  return codec ??= import("./codec.ts");
}

/** The key under which flash values travel inside a shared Flask session. */
const FLASH_KEY = "_sealed_flash";

/**
 * The key where Flask keeps `session.permanent`: `true` for a permanent session (a cookie with
 * `Expires`), absent (or false) for a browser-session cookie.
 */
const PERMANENT_KEY = "_permanent";

/**
 * Moves Flask sessions over, for the `foreign` option of `session()`: a request with no sealed
 * session but a valid Flask cookie gets the Flask data as a new sealed session, and every
 * response that uses the session deletes the Flask cookie. Validated once, at set-up; the Flask
 * codec starts loading now.
 *
 * @param options The Flask app's secret key and cookie settings.
 * @returns The foreign session, for `session({ secrets, foreign })`.
 * @throws {SessionConfigError} Naming the option at fault (as `flask.…`).
 *
 * @example Moving a Flask session into a sealed one
 * ```ts
 * import assert from "node:assert/strict";
 * import { flaskMigration } from "./bridge.ts";
 * import { sealFlaskCookie } from "./codec.ts";
 *
 * const flask = flaskMigration({ secretKeys: ["flask key"] });
 * const cookie = await sealFlaskCookie({ name: "Ada" }, { secretKeys: ["flask key"] });
 * const value = flask.find(`session=${cookie}`)!;
 * const moved = await flask.read(value, Date.now());
 * assert.deepEqual([moved?.data, moved?.persistent], [{ name: "Ada" }, false]);
 * assert.match(flask.clear(), /^session=; Max-Age=0/);
 * ```
 */
export function flaskMigration(options: FlaskSessionOptions): ForeignSession {
  return flaskBridge("migrate", options);
}

/**
 * Shares one session with a Flask app during a gradual move, for the `foreign` option of
 * `session()`: the session is read from and written to the Flask cookie itself (signed, **not
 * encrypted**, exactly as Flask does), so both apps see one session; confidentiality is given
 * up until the move is finished. No sealed cookie is written, so `revocation`, `store` and
 * `idleTimeout` cannot be used with it.
 *
 * @param options The Flask app's secret key and cookie settings.
 * @returns The foreign session, for `session({ secrets, foreign })`.
 * @throws {SessionConfigError} Naming the option at fault (as `flask.…`).
 *
 * @example A session written as Flask writes it
 * ```ts
 * import assert from "node:assert/strict";
 * import { flaskShared } from "./bridge.ts";
 *
 * const flask = flaskShared({ secretKeys: ["flask key"] });
 * const header = await flask.write({ data: { name: "Ada" }, persistent: false }, Date.now());
 * const value = flask.find(header.split(";")[0])!;
 * assert.deepEqual((await flask.read(value, Date.now()))?.data, { name: "Ada" });
 * ```
 */
export function flaskShared(options: FlaskSessionOptions): ForeignSession {
  return flaskBridge("shared", options);
}

function flaskBridge(mode: "migrate" | "shared", options: FlaskSessionOptions): ForeignSession {
  if (typeof options !== "object" || options === null) {
    throw new SessionConfigError("flask", "pass an object with at least `secretKeys`");
  }
  assertKnownOptions(options, FLASK_OPTIONS, "flask.");
  if (!Array.isArray(options.secretKeys) || options.secretKeys.length === 0) {
    throw new SessionConfigError(
      "flask.secretKeys",
      "give Flask's SECRET_KEY (then any fallbacks)",
    );
  }
  // Flask accepts any key length; only an empty one is a mistake for sure.
  for (const [i, key] of options.secretKeys.entries()) {
    if (key.length === 0) throw new SessionConfigError(`flask.secretKeys[${i}]`, "is empty");
  }
  const maxAge = options.maxAge ?? PERMANENT_SESSION_LIFETIME;
  if (!Number.isSafeInteger(maxAge) || maxAge <= 0) {
    throw new SessionConfigError(
      "flask.maxAge",
      `must be a positive whole number, received ${maxAge}`,
    );
  }
  if (options.secure !== undefined && typeof options.secure !== "boolean") {
    throw new SessionConfigError(
      "flask.secure",
      `must be true or false, as Flask's SESSION_COOKIE_SECURE, received ${options.secure}`,
    );
  }
  const cookie = validateCookie(
    {
      path: options.path,
      domain: options.domain,
      secure: options.secure,
      sameSite: options.sameSite,
    },
    "flask.",
    false,
  );
  // Loaded now, while the server starts, so that the first request does not wait for it; a
  // failure to load surfaces on the requests that need it.
  flaskCodec().catch(() => {});
  const bridge: FlaskBridgeSettings = {
    mode,
    cookieName: options.cookieName ?? "session",
    codec: { secretKeys: options.secretKeys, maxAge },
    maxAge,
    // Flask's own attributes, so that a write or a deletion reaches the very cookie Flask set
    // (a cookie is told apart by name, domain and path; a Secure one yields only to Secure).
    attributes: { ...cookie.attributes, secure: cookie.secure === true },
  };
  const shared = mode === "shared";
  return {
    mode,
    find: (header) => flaskCookie(header, bridge),
    claims: isFlaskValue,
    read: async (value, now) => {
      const data = await readFlaskSession(bridge, value, now);
      if (!data) return undefined;
      if (shared) return sharedSession(data);
      const { flaskSignedAt } = await flaskCodec();
      const issuedAt = flaskSignedAt(value)!;
      return {
        ...migratedSession(data),
        id: await digest(canonical(value)),
        issuedAt,
        expiresAt: issuedAt + maxAge,
      };
    },
    write: (session, now) => writeFlaskSession(bridge, flaskData(session), now),
    clear: () => serializeCookie(bridge.cookieName, "", bridge.attributes, 0),
    isCookie: (name, attributes) => sameCookie(bridge, name, attributes),
  };
}

/**
 * Whether a cookie value is shaped like Flask's: `payload.timestamp.signature`. Sealed values
 * are base64url and never hold a ".".
 */
function isFlaskValue(value: string): boolean {
  return value.includes(".");
}

/**
 * A verified Flask cookie value as Flask wrote it. Flask's decoder ignores the two unused low
 * bits of the signature's last character, so one cookie has four spellings; the payload and
 * timestamp are signed as text and have one. Re-encoding the signature leaves one spelling.
 *
 * @param value A value that {@linkcode readFlaskSession} accepted.
 * @returns The value with its signature segment re-encoded.
 */
function canonical(value: string): string {
  const dot = value.lastIndexOf(".");
  const signature = decodeBase64Url(value.slice(dot + 1))!;
  return `${value.slice(0, dot)}.${encodeBase64Url(signature)}`;
}

/** The first 16 bytes of a cookie value's SHA-256: what tells one Flask cookie from another. */
async function digest(value: string): Promise<Uint8Array> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return new Uint8Array(hash, 0, 16);
}

/**
 * Flask values as JSON for a sealed session: `Date` → ISO string, bytes → standard base64,
 * `bigint` → number when exact, else its decimal string, `NaN` and `±Infinity` → their names
 * (JSON has no such numbers).
 */
function jsonSafe(value: unknown): unknown {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return encodeBase64(value);
  if (typeof value === "bigint") {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}

/**
 * Reads the Flask cookie of a request.
 *
 * @param bridge The bridge settings.
 * @param value The Flask cookie value.
 * @param now Current time in milliseconds.
 * @returns The data, as JSON-safe values, or undefined when it does not verify.
 */
async function readFlaskSession(
  bridge: FlaskBridgeSettings,
  value: string,
  now: number,
): Promise<Record<string, unknown> | undefined> {
  const { unsealFlaskCookie } = await flaskCodec();
  const data = await unsealFlaskCookie(value, { ...bridge.codec, now: new Date(now) });
  return data ? jsonSafe(data) as Record<string, unknown> : undefined;
}

/**
 * Splits Flask's `_permanent` key off migrated Flask data: a permanent Flask session becomes a
 * persistent sealed session, any other a browser-session one, as Flask's cookie was.
 *
 * @param data The Flask session data.
 * @returns The data without `_permanent`, and the persistence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { migratedSession } from "./bridge.ts";
 *
 * assert.deepEqual(migratedSession({ name: "Ada", _permanent: true }), {
 *   data: { name: "Ada" },
 *   persistent: true,
 * });
 * assert.equal(migratedSession({ name: "Ada" }).persistent, false);
 * ```
 */
export function migratedSession(
  data: Record<string, unknown>,
): { data: Record<string, unknown>; persistent: boolean } {
  const { [PERMANENT_KEY]: permanent, ...rest } = data;
  return { data: rest, persistent: permanent === true };
}

/**
 * The `Set-Cookie` header of a shared Flask session, as Flask writes it: with `Expires` (now
 * plus `maxAge`) for a permanent session (`_permanent: true` in the data), with neither
 * `Expires` nor `Max-Age` for any other, which the browser drops when it closes.
 *
 * @param bridge The bridge settings.
 * @param data The data to write.
 * @param now Current time in milliseconds.
 * @returns The header value.
 * @throws {SessionTooLargeError} When it does not fit in one cookie (Flask cannot read chunks).
 */
async function writeFlaskSession(
  bridge: FlaskBridgeSettings,
  data: Record<string, unknown>,
  now: number,
): Promise<string> {
  const { sealFlaskCookie } = await flaskCodec();
  const value = await sealFlaskCookie(data, { ...bridge.codec, now: new Date(now) });
  // Flask's own expiry: the lifetime it enforces on the signature timestamp, from now, in
  // Werkzeug's http_date format, which is what toUTCString() writes.
  const expires = data[PERMANENT_KEY] === true
    ? `; Expires=${new Date(now + bridge.maxAge * 1000).toUTCString()}`
    : "";
  const header = `${bridge.cookieName}=${value}${expires}${attributeText(bridge.attributes)}`;
  if (header.length > MAX_COOKIE_BYTES) {
    throw new SessionTooLargeError(header.length, MAX_COOKIE_BYTES);
  }
  return header;
}

/**
 * The Flask cookie value of a request, if it is shaped like one (sealed values are base64url
 * and never hold a "."). Every cookie of the name is looked at: with the same name as the
 * sealed cookie but another domain or path, the browser sends both.
 *
 * @param header The `Cookie` request header.
 * @param bridge The bridge settings.
 * @returns The first Flask-shaped value, or undefined.
 */
function flaskCookie(
  header: string | undefined,
  bridge: FlaskBridgeSettings,
): string | undefined {
  if (!header || !header.includes(bridge.cookieName)) return undefined;
  let found: string | undefined;
  forEachCookie(header, (name, value) => {
    if (found === undefined && name === bridge.cookieName && isFlaskValue(value)) {
      if (value.length <= MAX_COOKIE_BYTES) found = value;
    }
  });
  return found;
}

/**
 * Whether the Flask cookie is the very cookie the sealed session is written to (same name,
 * domain and path): then writing or deleting the sealed cookie replaces it.
 *
 * @param bridge The bridge settings.
 * @param name The sealed cookie's name for this request.
 * @param attributes The sealed cookie's attributes.
 * @returns True when they are one cookie.
 */
function sameCookie(
  bridge: FlaskBridgeSettings,
  name: string,
  attributes: CookieAttributes,
): boolean {
  // Browsers ignore a leading "." and the case of a domain.
  const domain = (d: string | undefined) => (d ?? "").replace(/^\./, "").toLowerCase();
  return bridge.cookieName === name && bridge.attributes.path === attributes.path &&
    domain(bridge.attributes.domain) === domain(attributes.domain);
}

/**
 * A shared Flask session: flash values come from {@linkcode FLASH_KEY}, the persistence from
 * {@linkcode PERMANENT_KEY}.
 *
 * @param data The Flask session data.
 * @returns The session for the middleware.
 */
function sharedSession(data: Record<string, unknown>): ForeignSessionData {
  const { [FLASH_KEY]: flash, [PERMANENT_KEY]: permanent, ...rest } = data;
  const flashValues = typeof flash === "object" && flash !== null && !Array.isArray(flash)
    ? flash as Record<string, unknown>
    : undefined;
  return { data: rest, flash: flashValues, persistent: permanent === true };
}

/**
 * The data written to a shared Flask cookie: flash values under {@linkcode FLASH_KEY}, and
 * `_permanent: true` for a persistent session, as Flask stores `session.permanent`.
 *
 * @param record The session's data, flash values and persistence.
 * @returns The Flask session data.
 */
function flaskData(record: ForeignSessionData): Record<string, unknown> {
  const { data, flash } = record;
  const out: Record<string, unknown> = { ...data };
  delete out[PERMANENT_KEY];
  if (flash && Object.keys(flash).length > 0) out[FLASH_KEY] = flash;
  if (record.persistent !== false) out[PERMANENT_KEY] = true;
  return out;
}
