/**
 * The Hono middleware: a thin adapter that finds the session cookie, hands the handler a lazy
 * {@linkcode Session} as `c.get("session")`, and appends `Set-Cookie` only when needed.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { sameBytes } from "./_bytes.ts";
import {
  deletionCookies,
  MAX_COOKIE_BYTES,
  planSessionCookies,
  readSessionCookies,
  serializeCookie,
} from "./cookie.ts";
import { type InvalidReason, InvalidSessionError, SessionError } from "./errors.ts";
import {
  deleteFlaskSession,
  flaskCookie,
  flaskData,
  migratedSession,
  readFlaskSession,
  sameCookie,
  sharedRecord,
  writeFlaskSession,
} from "./flask_bridge.ts";
import { OpenCache } from "./open_cache.ts";
import { normalise, type SessionOptions, targets } from "./options.ts";
import { createSealer, decodeBody, type OpenedRecord, type Sealer } from "./seal.ts";
import type { StoredSession } from "./server_side.ts";
import { DECIDE, LOADED, Session, type SessionData, TOUCHED } from "./session.ts";

export type { SessionCookieOptions, SessionOptions } from "./options.ts";

/** What a store call answers when the store is down and the middleware fails open. */
const STORE_DOWN: unique symbol = Symbol("store down");

/**
 * Hono environment with a typed session, for `new Hono<SessionEnv<Data>>()`.
 *
 * @typeParam Data The shape of the session data.
 */
export type SessionEnv<Data extends SessionData = SessionData> = {
  Variables: { session: Session<Data> };
};

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
 * import assert from "node:assert/strict";
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
 * assert.equal(await again.text(), "Hello Ada");
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
    persistent: settings.persistent,
  };
  const nowSeconds = () => settings.now() / 1000;
  // Keys are derived once, here; requests only wait for it the first time.
  let sealer: Sealer | undefined;
  // Next secrets go after the current ones: they open, never seal.
  const sealingSecrets = options.secrets.length;
  const ready = createSealer({
    secrets: [...options.secrets, ...settings.nextSecrets],
    backend: options.backend ?? "auto",
  })
    .then((s) => (sealer = s));
  // A derivation failure surfaces on each request (as a 500 through app.onError), never as an
  // unhandled rejection that would end the process.
  ready.catch(() => {});

  const opened = new OpenCache(settings.openCacheSize);

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

  /** Opens on any backend, through the open cache; a synchronous throw becomes a rejection. */
  const openAsync = async (
    s: Sealer,
    value: string,
    name: string,
  ): Promise<OpenedRecord> => await opened.openAsync(s, value, name, nowSeconds());

  return async function session(c, next) {
    const s = sealer ?? await ready;
    const target = settings.secure === "auto"
      ? (c.req.url.startsWith("https:") ? secure : plain)
      : settings.secure
      ? secure
      : plain;
    const found = readSessionCookies(c.req.header("cookie"), target.name, maxValueBytes);
    let invalid = false;
    // A cookie that another instance of the fleet may still open (sealed under a key this one
    // lacks, or within a longer maxAge) is left alone unless the handler writes a new session.
    let keepCookie = false;
    // The hook hears of a refused cookie only when the handler uses the session, however
    // early the cookie had to be opened: an untouched session reports nothing.
    let pendingReason: InvalidReason | undefined;
    const reject = (error: unknown, keep = false): undefined => {
      invalid = true;
      pendingReason = error instanceof InvalidSessionError ? error.reason : "malformed";
      keepCookie = keep || pendingReason === "unknown-key";
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
    const accept = (record: OpenedRecord): OpenedRecord | undefined => {
      // A lifetime shortened in the configuration applies to sessions already issued; the
      // cookie itself is kept, since an instance still on the longer lifetime may serve it.
      if (nowSeconds() >= record.issuedAt + settings.maxAge) {
        return reject(new InvalidSessionError("expired"), true);
      }
      // Opened with a next secret: not re-sealed back to the current one, or instances in
      // two phases of a rotation would rewrite each other's cookies on every read.
      return record.keyIndex >= sealingSecrets ? { ...record, keyIndex: 0 } : record;
    };
    const bridge = settings.flask;
    // Sealed values are base64url and never hold a ".": one that does is Flask's.
    const flaskValue = bridge && flaskCookie(c.req.header("cookie"), bridge);
    const shared = bridge?.mode === "shared";
    const value = shared || found.value?.includes(".") ? undefined : found.value;
    const openSync = (): OpenedRecord | undefined => {
      try {
        return accept(opened.open(s, value!, target.name, nowSeconds()));
      } catch (error) {
        return reject(error);
      }
    };

    // Lazy by default: the cookie is opened when the handler first uses the session. The
    // asynchronous paths (Web Crypto, revocation, store) must open it before the handler.
    let loader = (): OpenedRecord | undefined => (value === undefined ? undefined : openSync());
    let stored: StoredSession | undefined;
    // Failing open with the store down: the session whose data could not be loaded. The cookie
    // is good (it opened, and may well be fine once the store is back), so it is kept as is.
    let unloaded: OpenedRecord | undefined;
    if (value !== undefined && (!s.sync || revocation || store)) {
      // Web Crypto is asynchronous, so it opens here, through the same open cache.
      let record = s.sync
        ? openSync()
        : await openAsync(s, value, target.name).then(accept, reject);
      if (record && revocation) {
        const id = record.id;
        const issuedAt = record.issuedAt;
        const revoked = await guarded(() => revocation.isRevoked(id, issuedAt), false);
        if (revoked) record = reject(new InvalidSessionError("revoked"));
      }
      if (record && store) {
        const id = record.id;
        const answer = await guarded<StoredSession | undefined | typeof STORE_DOWN>(
          () => store.load(id),
          STORE_DOWN,
        );
        stored = answer === STORE_DOWN ? undefined : answer;
        const parsed = stored && decodeBody(stored.body);
        if (answer === STORE_DOWN) {
          unloaded = record;
          record = undefined;
        } else if (parsed) {
          record = { ...record, data: parsed.data, flash: parsed.flash, body: stored!.body };
        } else {
          record = reject(new InvalidSessionError("expired", { cause: new Error("not in store") }));
        }
      }
      loader = () => record;
    }
    let migrated: { data: Record<string, unknown>; persistent: boolean } | undefined;
    if (flaskValue !== undefined && (shared || value === undefined)) {
      const data = await readFlaskSession(bridge!, flaskValue, settings.now());
      if (!data) reject(new InvalidSessionError("forged", { cause: new Error("Flask cookie") }));
      else if (shared) {
        const record = sharedRecord(data, nowSeconds(), settings.maxAge);
        loader = () => record;
      } else migrated = migratedSession(data);
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
      for (const [k, v] of Object.entries(migrated.data)) current.set(k as never, v as never);
      current.persistent = migrated.persistent;
    }

    await next();

    if (!current[TOUCHED]) return;
    appendHeaders(c, "Vary", ["Cookie"]);
    const decision = current[DECIDE](invalid && !keepCookie);
    // Migrating: a Flask cookie the request carried is expired by every response that uses the
    // session, however it ends (written, destroyed, or only read), so that a destroyed session
    // cannot come back from it. Not when the sealed cookie written or deleted here is that very
    // cookie: the sealed headers replace it.
    const expireFlask = (): string[] =>
      flaskValue !== undefined && !shared &&
        !(decision.action !== "none" && sameCookie(bridge!, target.name, target.attributes))
        ? [deleteFlaskSession(bridge!)]
        : [];
    if (decision.action === "none") {
      // Both a single cookie and chunks were sent: expire the form that was not read, now,
      // rather than leave it to be read should the other one go. Writes and deletions below
      // already expire every cookie they do not write.
      // (Not in shared mode: no sealed cookie is in use, and the single one may be Flask's.)
      const stale = shared
        ? []
        : found.stale.map((n) => serializeCookie(n, "", target.attributes, 0));
      appendHeaders(c, "Set-Cookie", [...stale, ...expireFlask()]);
      return;
    }
    // The store is down and this request saw an empty session: writing would replace the
    // visitor's session with whatever this request set. Only an explicit destroy() goes on.
    if (unloaded && decision.action === "write") return;
    const loaded = current[LOADED] ?? unloaded;
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
      const renewed = loaded !== undefined && !sameBytes(loaded.id, record.id);
      let cookieBody = decision.body;
      let writeCookie = true;
      if (store) {
        if (decision.dataChanged || renewed) {
          const expected = renewed ? undefined : stored;
          const saved = await guarded(
            () => store.save(record.id, decision.body, record.expiresAt, expected).then(() => true),
            false,
          );
          // Failing open and not saved: keep the cookie pointing at the data still stored.
          if (!saved) return;
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
          // A browser-session cookie has no Max-Age; its sealed deadlines still hold.
          record.persistent === false ? undefined : expires - Math.floor(nowSeconds()),
          settings.maxChunks,
          found.names,
        );
      }
    }
    headers.push(...expireFlask());
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
