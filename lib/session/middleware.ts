/**
 * The Hono middleware: a thin adapter that finds the session cookie, hands the handler a lazy
 * {@linkcode Session} as `c.get("session")`, and appends `Set-Cookie` only when needed.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import {
  assertCookieName,
  type CookieAttributes,
  deletionCookies,
  MAX_COOKIE_BYTES,
  planSessionCookies,
  readSessionCookies,
  type SameSite,
} from "./cookie.ts";
import {
  type InvalidReason,
  InvalidSessionError,
  SessionConfigError,
  SessionError,
} from "./errors.ts";
import { type Secret, secretBytes } from "./keys.ts";
import {
  deleteFlaskSession,
  FLASH_KEY,
  type FlaskBridge,
  flaskBridge,
  type FlaskBridgeOptions,
  readFlaskSession,
  writeFlaskSession,
} from "./flask_bridge.ts";
import {
  assertUnexpired,
  createSealer,
  encodeBody,
  type OpenedRecord,
  type Sealer,
  SESSION_ID_LENGTH,
} from "./seal.ts";
import type { SessionRevocation, SessionStore, StoredSession } from "./server_side.ts";
import { DECIDE, LOADED, Session, type SessionData, TOUCHED } from "./session.ts";
import { hasNodeCrypto, type XaesBackend } from "./xaes.ts";

/** Cookie attributes of {@linkcode SessionOptions}. */
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

/** Options of {@linkcode session}. */
export interface SessionOptions {
  /**
   * Secrets, newest first, each at least 32 bytes. The first seals; all open, and a session
   * opened with an older one is re-sealed with the first on the same response.
   */
  secrets: readonly Secret[];
  /**
   * Cookie name, before any `__Host-`/`__Secure-` prefix. Chunks are named `name.0`, `name.1`….
   * @default {"session"}
   */
  cookieName?: string;
  /**
   * Absolute lifetime in seconds from the session's issue (login, or {@linkcode Session.regenerate}).
   * Sealed inside the cookie, so it holds even if the browser keeps the cookie longer.
   * @default {1209600} (14 days)
   */
  maxAge?: number;
  /**
   * Idle timeout in seconds: a session unused this long expires. Unset for none.
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
   * Most cookies one session may use; a larger session fails with `SessionTooLargeError`.
   * @default {4}
   */
  maxChunks?: number;
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
   * and goes on: revocation is not checked, and a store-backed session is empty.
   * @default {false}
   */
  failOpen?: boolean;
  /**
   * Read Flask's session cookie, to move a Flask app here without logging anyone out: see
   * {@linkcode FlaskBridgeOptions}.
   * @default {undefined}
   */
  flask?: FlaskBridgeOptions;
  /**
   * XAES-256-GCM implementation. `auto` uses synchronous `node:crypto` where it exists.
   * @default {"auto"}
   */
  backend?: XaesBackend;
  /**
   * Clock in milliseconds, for tests.
   * @default {Date.now}
   */
  now?: () => number;
}

/**
 * Hono environment with a typed session, for `new Hono<SessionEnv<Data>>()`.
 *
 * @typeParam Data The shape of the session data.
 */
export type SessionEnv<Data extends SessionData = SessionData> = {
  Variables: { session: Session<Data> };
};

/** Longest lifetime accepted: browsers cap a cookie's Max-Age at 400 days. */
const MAX_AGE_LIMIT = 400 * 24 * 60 * 60;

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
interface Settings {
  cookieName: string;
  maxAge: number;
  idleTimeout: number | undefined;
  idleRefreshAfter: number;
  maxChunks: number;
  openCacheSize: number;
  secure: "auto" | boolean;
  attributes: Omit<CookieAttributes, "secure">;
  onInvalid: SessionOptions["onInvalid"];
  flask: FlaskBridge | undefined;
  revocation: SessionRevocation | undefined;
  store: SessionStore | undefined;
  failOpen: boolean;
  now: () => number;
}

function normalise(options: SessionOptions): Settings {
  if (typeof options !== "object" || options === null) {
    throw new SessionConfigError("options", "pass an object with at least `secrets`");
  }
  secretBytes(options.secrets);
  const cookieName = options.cookieName ?? "session";
  assertCookieName(cookieName, "cookieName");
  const maxAge = positiveInteger(options.maxAge ?? 14 * 24 * 60 * 60, "maxAge");
  if (maxAge > MAX_AGE_LIMIT) {
    throw new SessionConfigError(
      "maxAge",
      `must be at most ${MAX_AGE_LIMIT} seconds (400 days, the longest browsers keep a cookie), received ${maxAge}`,
    );
  }
  if (options.backend === "node" && !hasNodeCrypto) {
    throw new SessionConfigError(
      "backend",
      'is "node" but node:crypto is not available here; use "auto"',
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
  const maxChunks = options.maxChunks ?? 4;
  if (!Number.isInteger(maxChunks) || maxChunks < 1 || maxChunks > 50) {
    throw new SessionConfigError(
      "maxChunks",
      `must be a whole number from 1 to 50, received ${maxChunks}`,
    );
  }
  const openCacheSize = options.openCacheSize ?? 1000;
  if (!Number.isSafeInteger(openCacheSize) || openCacheSize < 0) {
    throw new SessionConfigError(
      "openCacheSize",
      `must be a whole number of entries (0 turns it off), received ${openCacheSize}`,
    );
  }
  const cookie = options.cookie ?? {};
  const sameSite = cookie.sameSite ?? "Lax";
  if (!["Strict", "Lax", "None"].includes(sameSite)) {
    throw new SessionConfigError(
      "cookie.sameSite",
      `must be "Strict", "Lax" or "None", received ${JSON.stringify(sameSite)}`,
    );
  }
  const secure = cookie.secure ?? "auto";
  if (sameSite === "None" && secure === false) {
    throw new SessionConfigError(
      "cookie.secure",
      'must not be false with sameSite "None": browsers refuse such cookies',
    );
  }
  const path = cookie.path ?? "/";
  if (!path.startsWith("/") || /[;\s]/.test(path)) {
    throw new SessionConfigError(
      "cookie.path",
      `must start with "/" and hold no ";" or spaces, received ${JSON.stringify(path)}`,
    );
  }
  if (cookie.domain !== undefined && !/^\.?[A-Za-z0-9.-]+$/.test(cookie.domain)) {
    throw new SessionConfigError(
      "cookie.domain",
      `must be a host name, received ${JSON.stringify(cookie.domain)}`,
    );
  }
  return {
    cookieName,
    maxAge,
    idleTimeout,
    idleRefreshAfter,
    maxChunks,
    openCacheSize,
    secure,
    attributes: {
      path,
      domain: cookie.domain,
      httpOnly: cookie.httpOnly ?? true,
      sameSite,
      partitioned: cookie.partitioned ?? false,
    },
    onInvalid: options.onInvalid,
    revocation: options.revocation,
    store: options.store,
    failOpen: options.failOpen ?? false,
    flask: options.flask ? flaskBridge(options.flask) : undefined,
    now: options.now ?? Date.now,
  };
}

/** The cookie name and attributes for one request (they depend on HTTPS). */
interface Target {
  name: string;
  attributes: CookieAttributes;
}

function targets(settings: Settings): { plain: Target; secure: Target } {
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

/**
 * Sealed cookie sessions for Hono. Each request gets `c.get("session")`, a {@linkcode Session}
 * whose data is sealed with XAES-256-GCM into the cookie itself: no store, any instance can
 * serve any request.
 *
 * @typeParam Data The shape of the session data.
 * @param options Secrets and settings; only `secrets` is required.
 * @returns The middleware.
 * @throws {SessionConfigError} At set-up, naming the option that is wrong.
 *
 * @example A greeting stored in the session
 * ```ts
 * import { Hono } from "hono";
 * import { session, type SessionEnv } from "./middleware.ts";
 *
 * type Data = { name: string };
 * const app = new Hono<SessionEnv<Data>>();
 * app.use(session<Data>({ secrets: ["a secret of at least thirty-two bytes!"] }));
 * app.post("/hello/:name", (c) => {
 *   c.get("session").set("name", c.req.param("name"));
 *   return c.text("saved");
 * });
 * app.get("/", (c) => c.text(`Hello ${c.get("session").get("name") ?? "stranger"}`));
 *
 * const res = await app.request("/hello/Ada", { method: "POST" });
 * const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
 * const again = await app.request("/", { headers: { cookie } });
 * console.assert((await again.text()) === "Hello Ada");
 * ```
 */
export function session<Data extends SessionData = SessionData>(
  options: SessionOptions,
): MiddlewareHandler<SessionEnv<Data>> {
  const settings = normalise(options);
  const { plain, secure } = targets(settings);
  const { revocation, store } = settings;
  const maxValueBytes = settings.maxChunks * MAX_COOKIE_BYTES;
  const timing = {
    maxAge: settings.maxAge,
    idleTimeout: settings.idleTimeout,
    idleRefreshAfter: settings.idleRefreshAfter,
  };
  const nowSeconds = () => settings.now() / 1000;
  // Keys are derived once, here; requests only wait for it the first time.
  let sealer: Sealer | undefined;
  const ready = createSealer({ secrets: options.secrets, backend: options.backend ?? "auto" })
    .then((s) => (sealer = s));
  // A derivation failure surfaces on each request (as a 500 through app.onError), never as an
  // unhandled rejection that would end the process.
  ready.catch(() => {});

  // Opened cookies by name and value; the data is kept only as the sealed JSON text.
  const opened = new Map<string, OpenedRecord>();
  const openCached = (s: Sealer, value: string, name: string, now: number): OpenedRecord => {
    if (settings.openCacheSize === 0) return s.openSync(value, name, now);
    const key = name + "=" + value;
    const hit = opened.get(key);
    if (hit) {
      assertUnexpired(hit, now);
      const { data, flash } = parseStoredBody(hit.body)!;
      return { ...hit, data, flash };
    }
    const record = s.openSync(value, name, now);
    // Oldest first out: Map keeps insertion order.
    if (opened.size >= settings.openCacheSize) opened.delete(opened.keys().next().value!);
    opened.set(key, { ...record, data: {}, flash: undefined });
    return record;
  };

  /** Runs a server-side call; on an outage, fails closed (throws) or open (logs, `fallback`). */
  const guarded = async <T>(call: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof SessionError) || error.code !== "ERR_SESSION_STORE_UNAVAILABLE") {
        throw error;
      }
      console.error(
        `session: ${error.message} (failing ${settings.failOpen ? "open" : "closed"})`,
        error.cause,
      );
      if (settings.failOpen) return fallback;
      throw error;
    }
  };

  return async function session(c, next) {
    const s = sealer ?? await ready;
    const target = settings.secure === "auto"
      ? (c.req.url.startsWith("https:") ? secure : plain)
      : settings.secure
      ? secure
      : plain;
    const found = readSessionCookies(c.req.header("cookie"), target.name, maxValueBytes);
    let invalid = false;
    // The hook hears of a refused cookie only when the handler uses the session, however
    // early the cookie had to be opened: an untouched session reports nothing.
    let pendingReason: InvalidReason | undefined;
    const reject = (error: unknown): undefined => {
      invalid = true;
      pendingReason = error instanceof InvalidSessionError ? error.reason : "malformed";
      return undefined;
    };
    const report = () => {
      if (pendingReason === undefined) return;
      const reason = pendingReason;
      pendingReason = undefined;
      try {
        settings.onInvalid?.(reason, c);
      } catch (hookError) {
        console.error("session: onInvalid hook failed", hookError);
      }
    };
    if (found.oversized) reject(new InvalidSessionError("malformed"));
    const accept = (record: OpenedRecord): OpenedRecord | undefined =>
      // A lifetime shortened in the configuration applies to sessions already issued.
      nowSeconds() >= record.issuedAt + settings.maxAge
        ? reject(new InvalidSessionError("expired"))
        : record;
    const bridge = settings.flask;
    // Sealed values are base64url and never hold a ".": one that does is Flask's.
    const flaskValue = bridge && flaskCookie(c.req.header("cookie"), bridge, target.name, found);
    const shared = bridge?.mode === "shared";
    const value = shared || found.value?.includes(".") ? undefined : found.value;
    const openSync = (): OpenedRecord | undefined => {
      try {
        return accept(openCached(s, value!, target.name, nowSeconds()));
      } catch (error) {
        return reject(error);
      }
    };

    // Lazy by default: the cookie is opened when the handler first uses the session. The
    // asynchronous paths (Web Crypto, revocation, store) must open it before the handler.
    let loader = (): OpenedRecord | undefined => (value === undefined ? undefined : openSync());
    let stored: StoredSession | undefined;
    if (value !== undefined && (!s.sync || revocation || store)) {
      let record = s.sync
        ? openSync()
        : await s.open(value, target.name, nowSeconds()).then(accept, reject);
      if (record && revocation) {
        const id = record.id;
        const issuedAt = record.issuedAt;
        const revoked = await guarded(() => revocation.isRevoked(id, issuedAt), false);
        if (revoked) record = reject(new InvalidSessionError("revoked"));
      }
      if (record && store) {
        const id = record.id;
        stored = await guarded(() => store.load(id), undefined);
        const parsed = stored && parseStoredBody(stored.body);
        if (parsed) {
          record = { ...record, data: parsed.data, flash: parsed.flash, body: stored!.body };
        } else {
          record = reject(new InvalidSessionError("expired", { cause: new Error("not in store") }));
        }
      }
      loader = () => record;
    }
    let migrated: Record<string, unknown> | undefined;
    if (flaskValue !== undefined && (shared || value === undefined)) {
      const data = await readFlaskSession(bridge!, flaskValue, settings.now());
      if (!data) reject(new InvalidSessionError("forged", { cause: new Error("Flask cookie") }));
      else if (shared) {
        const record = sharedRecord(data, nowSeconds(), settings.maxAge);
        loader = () => record;
      } else migrated = data;
    }
    const load = loader;
    const current = new Session<Data>(
      () => {
        const record = load();
        report();
        return record;
      },
      timing,
      settings.now,
    );
    c.set("session", current);
    // A migrated Flask session is a new sealed session holding the Flask data.
    if (migrated) {
      for (const [k, v] of Object.entries(migrated)) current.set(k as never, v as never);
    }

    await next();

    if (!current[TOUCHED]) return;
    appendHeaders(c, "Vary", ["Cookie"]);
    const decision = current[DECIDE](invalid);
    if (decision.action === "none") return;
    const loaded = current[LOADED];
    let headers: string[] = [];
    if (shared) {
      const now = settings.now();
      headers = decision.action === "delete" ? [deleteFlaskSession(bridge!)] : [
        await writeFlaskSession(bridge!, flaskData(decision.record), now),
      ];
    } else if (decision.action === "delete") {
      if (loaded && revocation) {
        await guarded(() => revocation.revoke(loaded.id, loaded.expiresAt), undefined);
      }
      if (loaded && store) await guarded(() => store.delete(loaded.id), undefined);
      headers = deletionCookies(target.name, target.attributes, found.names);
    } else {
      const { record } = decision;
      const renewed = loaded !== undefined && !sameId(loaded.id, record.id);
      let cookieBody = decision.body;
      let writeCookie = true;
      if (store) {
        if (decision.dataChanged || renewed) {
          const expected = renewed ? undefined : stored;
          await guarded(
            () => store.save(record.id, decision.body, record.expiresAt, expected),
            undefined,
          );
        }
        if (renewed) await guarded(() => store.delete(loaded.id), undefined);
        // The cookie holds only the sealed id; it changes only with the id or the deadlines.
        cookieBody = "{}";
        writeCookie = decision.cookieDue;
      }
      if (renewed && revocation) {
        await guarded(() => revocation.revoke(loaded.id, loaded.expiresAt), undefined);
      }
      if (writeCookie) {
        const sealRecord = store ? { ...record, data: {}, flash: undefined } : record;
        const sealed = s.sync
          ? s.sealSync(sealRecord, target.name, cookieBody)
          : await s.seal(sealRecord, target.name, cookieBody);
        const expires = record.idleExpiresAt || record.expiresAt;
        // Throws SessionTooLargeError before any header is set: the old cookie stays.
        headers = planSessionCookies(
          target.name,
          sealed,
          target.attributes,
          expires - Math.floor(nowSeconds()),
          settings.maxChunks,
          found.names,
        );
      }
    }
    if (migrated && decision.action === "write" && bridge!.cookieName !== target.name) {
      headers.push(deleteFlaskSession(bridge!));
    }
    appendHeaders(c, "Set-Cookie", headers);
  };
}

/**
 * Appends headers to the response. Straight onto its headers where they are mutable: Hono's
 * `c.header()` after the handler copies the whole response on every call.
 */
function appendHeaders(c: Context, name: string, values: readonly string[]): void {
  if (values.length === 0) return;
  let headers = c.res.headers;
  try {
    headers.append(name, values[0]!);
  } catch {
    // Immutable headers (a Response.redirect() or fetch() response): copy it once.
    c.res = new Response(c.res.body, c.res);
    headers = c.res.headers;
    headers.append(name, values[0]!);
  }
  for (let i = 1; i < values.length; i++) headers.append(name, values[i]!);
}

/** The Flask cookie value of a request, if it is shaped like one. */
function flaskCookie(
  header: string | undefined,
  bridge: FlaskBridge,
  sealedName: string,
  found: { value: string | undefined },
): string | undefined {
  const value = bridge.cookieName === sealedName
    ? found.value
    : readSessionCookies(header, bridge.cookieName, MAX_COOKIE_BYTES).value;
  return value?.includes(".") ? value : undefined;
}

/** A shared Flask session as an opened record: no id or deadlines of its own. */
function sharedRecord(data: Record<string, unknown>, now: number, maxAge: number): OpenedRecord {
  const { [FLASH_KEY]: flash, ...rest } = data;
  const flashValues = isObject(flash) ? flash : undefined;
  return {
    id: crypto.getRandomValues(new Uint8Array(SESSION_ID_LENGTH)),
    issuedAt: Math.floor(now),
    expiresAt: Math.floor(now) + maxAge,
    idleExpiresAt: 0,
    data: rest,
    flash: flashValues,
    keyIndex: 0,
    body: encodeBody(rest, flashValues),
  };
}

/** The data written to a shared Flask cookie, flash values under {@linkcode FLASH_KEY}. */
function flaskData(record: { data: Record<string, unknown>; flash?: Record<string, unknown> }) {
  const { data, flash } = record;
  return flash && Object.keys(flash).length > 0 ? { ...data, [FLASH_KEY]: flash } : data;
}

function sameId(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a stored body (`data` or `[data, flash]`); undefined when it is not one. */
function parseStoredBody(body: string): {
  data: Record<string, unknown>;
  flash: Record<string, unknown> | undefined;
} | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const [data, flash] = Array.isArray(parsed) ? parsed : [parsed, undefined];
  if (!isObject(data) || (flash !== undefined && !isObject(flash))) return undefined;
  return { data, flash };
}
