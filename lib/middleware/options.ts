/**
 * The options of `session()`: their types, documented defaults, and their validation at set-up
 * into normalised settings. Every mistake is reported here, naming the option.
 *
 * @module
 */

import type { Context } from "hono";
import { sameBytes } from "../common/bytes.ts";
import {
  assertCookieName,
  type CookieAttributes,
  type SessionCookieOptions,
  validateCookie,
} from "../cookie/attributes.ts";
import { DEFAULT_MAX_COOKIE_BYTES } from "../cookie/write.ts";
import { assertKnownOptions, type InvalidReason, SessionConfigError } from "../common/errors.ts";
import type { ForeignSession } from "./foreign.ts";
import { type Secret, secretBytes } from "../sealing/keys.ts";
import { MAX_AGE_LIMIT } from "../sealing/lifetime.ts";
import type { SessionRevocation, SessionStore } from "../server_side/contracts.ts";
import { hasNodeCryptoModule } from "../cipher/node_crypto.ts";

export type { SessionCookieOptions } from "../cookie/attributes.ts";

/**
 * The cookie's name when `cookieName` is not given: not `session`, which Flask, hono-sessions
 * and many others use. Cookies ignore ports, so another app on the same host would share it,
 * and each app's writes would log the other's visitors out.
 */
export const DEFAULT_COOKIE_NAME = "sealed";

/** Absolute session lifetime when `maxAge` is not given: 14 days, in seconds. */
export const DEFAULT_MAX_AGE = 14 * 24 * 60 * 60;

/** Options of {@linkcode session}. */
export interface SessionOptions {
  /**
   * Secrets, newest first, each at least 32 bytes. The first seals; all open, and a session
   * opened with an older one is re-sealed with the first on the same response.
   */
  secrets: readonly Secret[];
  /**
   * Secrets accepted for opening but never used to seal: phase 1 of a rotation on a fleet.
   * Give every instance the coming secret here first; once all of them have it, make it the
   * first of `secrets` (phase 2). A cookie opened with one of these is not re-sealed with
   * `secrets[0]`, so instances in the two phases do not rewrite each other's cookies.
   * @default {[]}
   */
  nextSecrets?: readonly Secret[];
  /**
   * Cookie name, before any `__Host-`/`__Secure-` prefix. Chunks are named `name.0`, `name.1`….
   * @default {"sealed"} ({@linkcode DEFAULT_COOKIE_NAME})
   */
  cookieName?: string;
  /**
   * Absolute lifetime in seconds from the session's issue (login, or {@linkcode Session.regenerate}).
   * Sealed inside the cookie, so it holds even if the browser keeps the cookie longer.
   * @default {1209600} (14 days, {@linkcode DEFAULT_MAX_AGE})
   */
  maxAge?: number;
  /**
   * Whether a new session's cookie is persistent: `true` writes `Max-Age` (the cookie outlives
   * the browser, until the sealed expiry), `false` writes none, so the browser drops the cookie
   * when it closes (Flask's, Rails' and express-session's default). A handler chooses per session
   * with `session.persistent` (a "remember me" box); the choice is sealed in the cookie. The
   * sealed `maxAge` and `idleTimeout` hold either way. The default is `true` so that apps written
   * before this option keep their cookies' lifetime.
   * @default {true}
   */
  persistent?: boolean;
  /**
   * Absolute lifetime in seconds of a persistent session, one a handler remembers with
   * `session.persistent = true` (a "remember me" box); `maxAge` is then the lifetime of the
   * others. Sealed inside the cookie like every deadline: "remember me for 30 days, else a
   * day" is `maxAge: 86400, persistentMaxAge: 2592000`. At least `maxAge`, at most 400 days.
   * @default {maxAge}
   */
  persistentMaxAge?: number;
  /**
   * Idle timeout in seconds: a session unused this long expires. Unset for none. A change
   * applies to sessions already issued, on their next use: one sealed without an idle deadline
   * (or with a later one than this timeout allows) is re-sealed with a deadline starting then
   * (when it was last used before is unknown); turned off, the deadline is dropped.
   * @default {undefined}
   */
  idleTimeout?: number;
  /**
   * Fraction of the idle window that must pass before a request pushes the idle deadline back
   * (and so re-writes the cookie). Higher means fewer writes and a coarser deadline.
   * @default {0.5}
   */
  idleRefreshAfter?: number;
  /**
   * Most bytes the session's cookies may add to each request's `Cookie` header (their names,
   * values and separators; a larger session is split into several cookies of at most 4096
   * bytes). A change that would need more throws `SessionTooLargeError` where it is made
   * (`set()`, `flash()`), so the handler can answer; the cookie the browser has stays. The
   * default leaves room for 1 KiB of the site's other cookies under the stock header limits of
   * nginx and haproxy; raise it only with theirs (docs/library.md says how).
   * @default {6144}
   */
  maxCookieBytes?: number;
  /**
   * How many opened cookies to remember, per isolate, keyed by the exact cookie value: a
   * browser sends the same cookie until it changes, and a hit skips the decryption. Expiry,
   * the current `maxAge` and revocation are still checked on every request, and the data is
   * parsed afresh, so a hit behaves exactly as a miss. Only cookies that opened are kept. 0
   * turns it off.
   * @default {1000}
   */
  openCacheSize?: number;
  /** Cookie attributes. */
  cookie?: SessionCookieOptions;
  /**
   * Called when a request carried a session cookie that did not open, with the reason. For
   * logging: the client sees an empty session whatever the reason.
   * @default {undefined}
   */
  onInvalid?: (reason: InvalidReason, c: Context) => void;
  /**
   * A revocation list (`kvRevocation(kv)` from `lib/kv/mod.ts`): `destroy()` and
   * `regenerate()` revoke the old session id, so copies of the cookie stop working. With it,
   * the cookie is opened before the handler runs (the check is asynchronous).
   * @default {undefined}
   */
  revocation?: SessionRevocation;
  /**
   * A server-side store (`kvStore(kv)` from `lib/kv/mod.ts`): the cookie holds only the sealed
   * session id and the data lives in the store. The session is loaded before the handler runs.
   * @default {undefined}
   */
  store?: SessionStore;
  /**
   * What to do when the revocation list or store cannot be reached. `false` (fail closed)
   * throws a `SessionError` with code `ERR_SESSION_STORE_UNAVAILABLE` to `app.onError` (answer
   * 503), so a possibly revoked session is never accepted. `true` (fail open) logs the error
   * and goes on: revocation is not checked, and a store-backed session is empty for the request
   * but not logged out: its cookie is neither deleted nor replaced (only `destroy()` or `clear()` deletes it),
   * and a change the store cannot save is dropped rather than pointing the cookie at nothing.
   * @default {false}
   */
  failOpen?: boolean;
  /**
   * Another framework's session cookie to read (and in `shared` mode, write): made by
   * `flaskMigration()` or `flaskShared()` from `./flask`, to move a Flask app here without
   * logging anyone out, or anything else that implements {@linkcode ForeignSession}.
   * @default {undefined}
   */
  foreign?: ForeignSession;
  /**
   * XAES-256-GCM implementation. `auto` uses synchronous `node:crypto` where it exists.
   * @default {"auto"}
   */
  backend?: "auto" | "node" | "webcrypto";
  /**
   * Clock in milliseconds, for tests.
   * @default {Date.now}
   */
  now?: () => number;
}

/** Every option of {@linkcode SessionOptions}: anything else is a mistake, named at set-up. */
const SESSION_OPTIONS: Record<keyof SessionOptions, true> = {
  secrets: true,
  nextSecrets: true,
  cookieName: true,
  maxAge: true,
  persistent: true,
  persistentMaxAge: true,
  idleTimeout: true,
  idleRefreshAfter: true,
  maxCookieBytes: true,
  openCacheSize: true,
  cookie: true,
  onInvalid: true,
  revocation: true,
  store: true,
  failOpen: true,
  foreign: true,
  backend: true,
  now: true,
};

function positiveInteger(value: unknown, option: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new SessionConfigError(
      option,
      `must be a positive whole number of seconds, received ${value}`,
    );
  }
  return value;
}

/** Normalised options, computed once at set-up. */
export interface Settings {
  /** Secrets that seal (the first) and open. */
  secrets: readonly Secret[];
  nextSecrets: readonly Secret[];
  cookieName: string;
  maxAge: number;
  persistent: boolean;
  persistentMaxAge: number;
  idleTimeout: number | undefined;
  idleRefreshAfter: number;
  maxCookieBytes: number;
  openCacheSize: number;
  secure: "auto" | boolean;
  attributes: Omit<CookieAttributes, "secure">;
  onInvalid: SessionOptions["onInvalid"];
  /** The foreign session cookie read (and in `shared` mode written). */
  foreign: ForeignSession | undefined;
  revocation: SessionRevocation | undefined;
  store: SessionStore | undefined;
  failOpen: boolean;
  backend: "auto" | "node" | "webcrypto";
  now: () => number;
}

/**
 * Validates and normalises the options, once, at set-up.
 *
 * @param options The options.
 * @returns The settings.
 * @throws {SessionConfigError} Naming the option at fault.
 */
export function normalise(options: SessionOptions): Settings {
  if (typeof options !== "object" || options === null) {
    throw new SessionConfigError("options", "pass an object with at least `secrets`");
  }
  assertKnownOptions(options, SESSION_OPTIONS);
  const current = secretBytes(options.secrets);
  const nextSecrets = options.nextSecrets ?? [];
  if (!Array.isArray(nextSecrets)) {
    throw new SessionConfigError("nextSecrets", "must be an array of secrets (or left out)");
  }
  if (nextSecrets.length > 0) {
    for (const [i, bytes] of secretBytes(nextSecrets, "nextSecrets").entries()) {
      if (current.some((secret) => sameBytes(secret, bytes))) {
        throw new SessionConfigError(
          `nextSecrets[${i}]`,
          "this secret is already in `secrets`; a secret that seals or is a fallback is not a next secret, remove it from one list",
        );
      }
    }
  }
  const cookieName = options.cookieName ?? DEFAULT_COOKIE_NAME;
  assertCookieName(cookieName, "cookieName");
  const maxAge = positiveInteger(options.maxAge ?? DEFAULT_MAX_AGE, "maxAge");
  if (maxAge > MAX_AGE_LIMIT) {
    throw new SessionConfigError(
      "maxAge",
      `must be at most ${MAX_AGE_LIMIT} seconds (400 days, the longest browsers keep a cookie), received ${maxAge}`,
    );
  }
  if (options.backend === "node" && !hasNodeCryptoModule()) {
    throw new SessionConfigError(
      "backend",
      'is "node" but node:crypto is not available here; use "auto"',
    );
  }
  const persistent = options.persistent ?? true;
  if (typeof persistent !== "boolean") {
    throw new SessionConfigError(
      "persistent",
      `must be true (cookies with Max-Age) or false (browser-session cookies), received ${
        JSON.stringify(persistent)
      }`,
    );
  }
  const persistentMaxAge = positiveInteger(
    options.persistentMaxAge ?? maxAge,
    "persistentMaxAge",
  );
  if (persistentMaxAge < maxAge || persistentMaxAge > MAX_AGE_LIMIT) {
    throw new SessionConfigError(
      "persistentMaxAge",
      `must be from maxAge (${maxAge}) to ${MAX_AGE_LIMIT} seconds (400 days), received ${persistentMaxAge}: a remembered session lasts at least as long as the others`,
    );
  }
  const idleTimeout = options.idleTimeout === undefined
    ? undefined
    : positiveInteger(options.idleTimeout, "idleTimeout");
  const idleRefreshAfter = options.idleRefreshAfter ?? 0.5;
  if (!(idleRefreshAfter >= 0 && idleRefreshAfter <= 1)) {
    throw new SessionConfigError(
      "idleRefreshAfter",
      `must be between 0 and 1, received ${idleRefreshAfter}`,
    );
  }
  const maxCookieBytes = options.maxCookieBytes ?? DEFAULT_MAX_COOKIE_BYTES;
  if (!Number.isSafeInteger(maxCookieBytes) || maxCookieBytes < 512) {
    throw new SessionConfigError(
      "maxCookieBytes",
      `must be a whole number of bytes, at least 512 (a small session's cookie), received ${maxCookieBytes}`,
    );
  }
  const openCacheSize = options.openCacheSize ?? 1000;
  if (!Number.isSafeInteger(openCacheSize) || openCacheSize < 0) {
    throw new SessionConfigError(
      "openCacheSize",
      `must be a whole number of entries (0 turns it off), received ${openCacheSize}`,
    );
  }
  const { secure, attributes } = validateCookie(options.cookie ?? {}, "cookie.");
  const foreign = options.foreign;
  if (foreign?.mode === "shared") {
    // No sealed cookie is written then: nothing would carry the id these features work on.
    const conflicting = (["revocation", "store", "idleTimeout"] as const).find((name) =>
      options[name] !== undefined
    );
    if (conflicting) {
      throw new SessionConfigError(
        conflicting,
        "cannot be used with a shared foreign session (the foreign cookie has no session id or idle deadline); finish the move and switch to a migrating one first",
      );
    }
  }
  return {
    secrets: options.secrets,
    nextSecrets,
    cookieName,
    maxAge,
    persistent,
    persistentMaxAge,
    idleTimeout,
    idleRefreshAfter,
    maxCookieBytes,
    openCacheSize,
    secure,
    attributes,
    onInvalid: options.onInvalid,
    revocation: options.revocation,
    store: options.store,
    failOpen: options.failOpen ?? false,
    foreign,
    backend: options.backend ?? "auto",
    now: options.now ?? Date.now,
  };
}

/** The cookie name and attributes for one request (they depend on HTTPS). */
export interface Target {
  name: string;
  attributes: CookieAttributes;
}

/**
 * The cookie name and attributes for plain HTTP and for HTTPS requests.
 *
 * @param settings The settings.
 * @returns Both targets.
 */
export function targets(settings: Settings): { plain: Target; secure: Target } {
  // __Host- requires Secure, Path=/ and no Domain; otherwise the weaker __Secure- still stops
  // an HTTP page or a sibling subdomain over plain HTTP from planting the cookie.
  const prefix = settings.attributes.domain || settings.attributes.path !== "/"
    ? "__Secure-"
    : "__Host-";
  return {
    plain: {
      name: settings.cookieName,
      attributes: { ...settings.attributes, secure: settings.secure === true },
    },
    secure: {
      name: settings.secure === false ? settings.cookieName : prefix + settings.cookieName,
      attributes: { ...settings.attributes, secure: settings.secure !== false },
    },
  };
}
