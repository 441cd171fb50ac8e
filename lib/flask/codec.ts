/**
 * Flask's default session cookie (`SecureCookieSessionInterface`), read and written byte for
 * byte: `[.]payload.timestamp.signature`, each segment base64url without padding.
 *
 * @module
 */

import { decodeBase64Url, encodeBase64Url } from "./_base64.ts";
import { deflate, inflateBounded, MAX_PAYLOAD_BYTES } from "./_compression.ts";
import { PERMANENT_SESSION_LIFETIME } from "./_lifetime.ts";
import { parsePythonJson, stringifyPythonJson } from "./_python_json.ts";
import { type DerivedKey, derivedKeys, type FlaskSecret, sign, verify } from "./_signer.ts";
import { tagValue, untagValue } from "./_tagged_json.ts";

/** Options of {@linkcode unsealFlaskCookie} and {@linkcode sealFlaskCookie}. */
export interface FlaskCookieOptions {
  /**
   * Flask's `SECRET_KEY` first, then its fallbacks (Flask 3.1 `SECRET_KEY_FALLBACKS`), as
   * strings (used as UTF-8) or raw bytes. Sealing signs with the first; unsealing accepts any.
   * Keys are derived once per array, so keep passing the same array.
   */
  secretKeys: readonly (string | Uint8Array)[];
  /**
   * Flask's `PERMANENT_SESSION_LIFETIME` in seconds: an older signature is refused. Flask
   * applies it to every session, permanent or not.
   * @default {2678400} (31 days)
   */
  maxAge?: number;
  /**
   * The clock: the signing time when sealing, the time to check the age against when
   * unsealing.
   * @default {new Date()}
   */
  now?: Date;
}

/**
 * The longest cookie value read. Browsers keep about 4 KB per cookie and servers cap headers
 * near 8 KB; anything much longer is not a cookie Flask set.
 */
const MAX_VALUE_LENGTH = 64 * 1024;

/** Every character Flask writes; anything else is refused before any crypto runs. */
const COOKIE_ALPHABET = /^[A-Za-z0-9_.-]*$/;

/** Python decodes the payload with the strict "utf-8" codec, which keeps a BOM (then refused). */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const ascii = new TextEncoder();

interface Resolved {
  keys: Promise<readonly DerivedKey[]>;
  maxAge: number;
  /** Python's `int(time.time())`. */
  nowSeconds: number;
}

function resolveOptions(options: FlaskCookieOptions, action: string): Resolved {
  const fail = (ErrorClass: typeof TypeError, what: string): never => {
    throw new ErrorClass(`Cannot ${action} a Flask cookie: ${what}`);
  };
  if (typeof options !== "object" || options === null) fail(TypeError, "options are missing");
  const { secretKeys, maxAge = PERMANENT_SESSION_LIFETIME, now = new Date() } = options;
  if (!Array.isArray(secretKeys) || secretKeys.length === 0) {
    fail(TypeError, "secretKeys must hold Flask's SECRET_KEY");
  }
  secretKeys.forEach((key: unknown, i) => {
    if (typeof key === "string") {
      if (key.length === 0) fail(TypeError, `secretKeys[${i}] is empty`);
      // Python refuses to encode a lone surrogate; TextEncoder would silently replace it.
      if (!key.isWellFormed()) fail(TypeError, `secretKeys[${i}] has a lone surrogate`);
    } else if (key instanceof Uint8Array) {
      if (key.length === 0) fail(TypeError, `secretKeys[${i}] is empty`);
    } else {
      fail(TypeError, `secretKeys[${i}] must be a string or a Uint8Array`);
    }
  });
  if (typeof maxAge !== "number" || !Number.isFinite(maxAge) || maxAge < 0) {
    fail(RangeError, `maxAge must be a finite number of seconds >= 0, received ${String(maxAge)}`);
  }
  if (!(now instanceof Date)) fail(TypeError, "now must be a Date");
  if (Number.isNaN(now.getTime())) fail(RangeError, "now is an invalid Date");
  return {
    keys: derivedKeys(secretKeys as readonly FlaskSecret[]),
    maxAge,
    nowSeconds: Math.trunc(now.getTime() / 1000),
  };
}

/**
 * Opens a Flask session cookie: checks the signature against every key, the age against
 * `maxAge`, then inflates and decodes the tagged JSON.
 *
 * Returns `null` for every cookie Flask would reject (bad signature, unknown key, expired,
 * signed in the future, malformed) and for signed cookies Flask would crash on (undecodable
 * payload, a JSON array, number or string). A JSON `null`, or an empty list or string, is the
 * empty session `{}`, as in Flask (`dict(())`). Stricter than Flask, also `null`: characters
 * outside `[A-Za-z0-9_.-]` (Python's base64 skips them; Flask never writes them), values over
 * 64 KiB, payloads inflating past 256 KiB, nesting deeper than 256, and tags Flask never
 * writes (see docs/flask-format.md).
 *
 * Decoded types: tuple → `Array`, bytes → `Uint8Array`, Markup → `string`, UUID → hyphenated
 * lowercase `string`, datetime → `Date`, integers beyond 2^53 - 1 → `bigint`, `NaN` and
 * `Infinity` → `number`.
 *
 * @param value The cookie value as the browser sent it (unquoted).
 * @param options Secret keys, lifetime and clock.
 * @returns The session data, or `null`. Never rejects because of `value`.
 * @throws {TypeError} (as a rejection) When `secretKeys` is empty or holds an empty key, or
 * `now` is not a `Date`.
 * @throws {RangeError} (as a rejection) When `maxAge` is not a finite number >= 0 or `now` is
 * an invalid `Date`.
 *
 * @example Reading the Flask tutorial's cookie
 * ```ts
 * import assert from "node:assert/strict";
 * import { unsealFlaskCookie } from "./codec.ts";
 *
 * const cookie = "eyJsYXN0bmFtZSI6IkxvdmVsYWNlIiwibmFtZSI6IkFkYSJ9.ZVPxAA.fHqttHwxsqfvvZpjyHrpoTv5wgE";
 * const options = { secretKeys: ["tutorial-secret-key"], now: new Date(1_700_000_060_000) };
 *
 * const session = await unsealFlaskCookie(cookie, options);
 * assert.equal(session?.name, "Ada");
 * assert.equal(session?.lastname, "Lovelace");
 * assert.equal(await unsealFlaskCookie(cookie, { ...options, secretKeys: ["other"] }), null);
 * ```
 */
export function unsealFlaskCookie(
  value: string,
  options: FlaskCookieOptions,
): Promise<Record<string, unknown> | null> {
  try {
    return unseal(value, resolveOptions(options, "unseal"));
  } catch (error) {
    // Options are checked before the first await: report them as a rejection all the same.
    return Promise.reject(error);
  }
}

async function unseal(
  value: unknown,
  { keys, maxAge, nowSeconds }: Resolved,
): Promise<Record<string, unknown> | null> {
  if (
    typeof value !== "string" || value.length > MAX_VALUE_LENGTH || !COOKIE_ALPHABET.test(value)
  ) {
    return null;
  }
  const sigDot = value.lastIndexOf(".");
  if (sigDot < 0) return null;
  const message = value.slice(0, sigDot);
  const signature = decodeBase64Url(value.slice(sigDot + 1));
  if (signature === undefined || !(await verify(await keys, message, signature))) return null;

  const tsDot = message.lastIndexOf(".");
  if (tsDot < 0) return null;
  const timestamp = decodeTimestamp(message.slice(tsDot + 1));
  if (timestamp === undefined) return null;
  const age = nowSeconds - timestamp;
  if (age > maxAge || age < 0) return null;

  const body = message.slice(0, tsDot);
  const compressed = body.startsWith(".");
  const raw = decodeBase64Url(compressed ? body.slice(1) : body);
  if (raw === undefined) return null;
  const payload = compressed ? await inflateBounded(raw, MAX_PAYLOAD_BYTES) : raw;
  if (payload === undefined || payload.length > MAX_PAYLOAD_BYTES) return null;
  try {
    return toSession(untagValue(parsePythonJson(utf8.decode(payload))));
  } catch {
    // Flask answers these with HTTP 500 (BadPayload); for us they are simply no session.
    return null;
  }
}

/**
 * When a Flask cookie was signed (its timestamp), in Unix seconds. The value is not verified
 * here: ask only of one that {@linkcode unsealFlaskCookie} accepted.
 *
 * @param value The cookie value.
 * @returns The signing time, or undefined when the value has no readable timestamp.
 *
 * @example The Flask tutorial's cookie
 * ```ts
 * import assert from "node:assert/strict";
 * import { flaskSignedAt } from "./codec.ts";
 *
 * const cookie = "eyJsYXN0bmFtZSI6IkxvdmVsYWNlIiwibmFtZSI6IkFkYSJ9.ZVPxAA.fHqttHwxsqfvvZpjyHrpoTv5wgE";
 * assert.equal(flaskSignedAt(cookie), 1_700_000_000);
 * ```
 */
export function flaskSignedAt(value: string): number | undefined {
  const message = value.slice(0, value.lastIndexOf("."));
  const dot = message.lastIndexOf(".");
  return dot < 0 ? undefined : decodeTimestamp(message.slice(dot + 1));
}

/** itsdangerous' `bytes_to_int`: big-endian, at most 8 bytes, empty is 0. */
function decodeTimestamp(segment: string): number | undefined {
  const bytes = decodeBase64Url(segment);
  if (bytes === undefined || bytes.length > 8) return undefined;
  let n = 0;
  // Beyond 2^53 this loses precision, but such a time is in the future and refused anyway.
  for (const byte of bytes) n = n * 256 + byte;
  return n;
}

/** Flask's `SecureCookieSession(data)`, i.e. `dict(data)` or `{}` for `None`. */
function toSession(data: unknown): Record<string, unknown> | null {
  if (data === null) return {};
  if (typeof data === "string" || Array.isArray(data) || data instanceof Uint8Array) {
    // dict("") and dict([]) are empty; a non-empty list of pairs would make a dict in Python,
    // but Flask never writes one, so it is refused with every other non-object.
    return data.length === 0 ? {} : null;
  }
  if (typeof data === "object" && Object.getPrototypeOf(data) === Object.prototype) {
    return data as Record<string, unknown>;
  }
  return null;
}

/**
 * Writes a Flask session cookie value, exactly as Flask would for the same data and clock:
 * tagged JSON with keys in code point order and ASCII escapes, zlib-compressed when that saves
 * at least 2 bytes (then prefixed with `.`), the timestamp, and an HMAC-SHA1 with the first key.
 *
 * Accepted values: `string`, `number`, `bigint`, `boolean`, `null`, arrays, plain objects,
 * `Uint8Array` (→ `bytes`) and `Date` (→ `datetime`, whole seconds, years 100 to 9999). A safe
 * integer is written as an `int`, any other number as a Python `float`. Object properties set
 * to `undefined` are left out.
 *
 * @param data The session data.
 * @param options Secret keys and clock (`maxAge` is not used).
 * @returns The cookie value (Flask's `Set-Cookie` value for `session=`).
 * @throws {TypeError} (as a rejection) For `data` that is not a plain object, unsupported
 * values, circular references, or invalid `secretKeys`.
 * @throws {RangeError} (as a rejection) For a date outside the years 100 to 9999, nesting
 * deeper than 256, a payload over 256 KiB or a value over 64 KiB (which unsealing refuses), or a
 * clock before 1970.
 *
 * @example Writing the Flask tutorial's cookie
 * ```ts
 * import assert from "node:assert/strict";
 * import { sealFlaskCookie } from "./codec.ts";
 *
 * const cookie = await sealFlaskCookie({ name: "Ada", lastname: "Lovelace" }, {
 *   secretKeys: ["tutorial-secret-key"],
 *   now: new Date(1_700_000_000_000),
 * });
 * assert.equal(
 *   cookie,
 *   "eyJsYXN0bmFtZSI6IkxvdmVsYWNlIiwibmFtZSI6IkFkYSJ9.ZVPxAA.fHqttHwxsqfvvZpjyHrpoTv5wgE",
 * );
 * ```
 */
export function sealFlaskCookie(
  data: Record<string, unknown>,
  options: FlaskCookieOptions,
): Promise<string> {
  try {
    return seal(data, resolveOptions(options, "seal"));
  } catch (error) {
    return Promise.reject(error);
  }
}

async function seal(data: unknown, { keys, nowSeconds }: Resolved): Promise<string> {
  if (
    typeof data !== "object" || data === null || Array.isArray(data) ||
    (Object.getPrototypeOf(data) !== Object.prototype && Object.getPrototypeOf(data) !== null)
  ) {
    throw new TypeError("Cannot seal a Flask session: data must be a plain object");
  }
  const json = ascii.encode(stringifyPythonJson(tagValue(data)));
  if (json.length > MAX_PAYLOAD_BYTES) {
    throw new RangeError(
      `Cannot seal a Flask session: payload is ${json.length} bytes, more than ${MAX_PAYLOAD_BYTES}`,
    );
  }
  if (nowSeconds < 0) throw new RangeError("Cannot seal a Flask session: now is before 1970");
  const compressed = await deflate(json);
  // itsdangerous: compress only if it saves at least 2 bytes.
  const body = compressed.length < json.length - 1
    ? `.${encodeBase64Url(compressed)}`
    : encodeBase64Url(json);
  const message = `${body}.${encodeBase64Url(encodeTimestamp(nowSeconds))}`;
  const value = `${message}.${encodeBase64Url(await sign((await keys)[0]!, message))}`;
  // Never write what unsealFlaskCookie would refuse to read.
  if (value.length > MAX_VALUE_LENGTH) {
    throw new RangeError(
      `Cannot seal a Flask session: cookie is ${value.length} characters, more than ${MAX_VALUE_LENGTH}`,
    );
  }
  return value;
}

/** itsdangerous' `int_to_bytes`: big-endian with leading zero bytes stripped (0 → empty). */
function encodeTimestamp(seconds: number): Uint8Array {
  const bytes: number[] = [];
  for (let n = seconds; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return new Uint8Array(bytes);
}
