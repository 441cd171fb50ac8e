/**
 * The session cookie's attributes: their options, validated once at set-up, and the cookie
 * name's syntax. Pure: no Hono types.
 *
 * @module
 */

import { assertKnownOptions, SessionConfigError } from "../common/errors.ts";

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
 * import { validateCookie } from "./attributes.ts";
 * import { SessionConfigError } from "../common/errors.ts";
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
 * import { assertCookieName } from "./attributes.ts";
 * import { SessionConfigError } from "../common/errors.ts";
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
