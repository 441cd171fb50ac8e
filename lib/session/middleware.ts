/**
 * The Hono middleware: a thin adapter that finds the session cookie, hands the handler a lazy
 * {@linkcode Session} as `c.get("session")`, and appends `Set-Cookie` only when needed.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { sameBytes } from "./bytes.ts";
import {
  deletionCookies,
  MAX_COOKIE_BYTES,
  planSessionCookies,
  readSessionCookies,
  type RequestCookies,
  serializeCookie,
} from "./cookie.ts";
import { type InvalidReason, InvalidSessionError, SessionError } from "./errors.ts";
import type { ForeignSession, ForeignSessionData } from "./foreign.ts";
import { OpenCache } from "./open_cache.ts";
import { normalise, type SessionOptions, type Settings, type Target, targets } from "./options.ts";
import { decodeBody, encodeBody } from "./body.ts";
import {
  createSealer,
  type OpenedRecord,
  type Sealer,
  SESSION_ID_LENGTH,
  type SessionRecord,
} from "./seal.ts";
import type { SessionRevocation, SessionStore, StoredSession } from "./server_side.ts";
import {
  DECIDE,
  LOADED,
  Session,
  type SessionData,
  type SessionDecision,
  type SessionLoader,
  TOUCHED,
} from "./session.ts";

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
  const flow = new RequestFlow(settings);
  const { foreign } = settings;
  const mode: Mode = foreign?.mode === "shared"
    ? sharedForeignMode(flow, foreign)
    : settings.store
    ? storeMode(flow, settings.store, settings.revocation)
    : cookieMode(flow, settings.revocation);
  const migration = foreign?.mode === "migrate" ? foreignMigration(flow, foreign) : undefined;

  return async function session(c, next) {
    // Find the cookie.
    const visit = flow.findCookie(c, flow.sealer ?? await flow.ready);
    // Load: lazily where the cookie can be opened synchronously and nothing else is to check.
    const loading = mode.load(visit);
    const load = typeof loading === "function" ? loading : await loading;
    const current = new Session<Data>(
      () => {
        const record = load();
        visit.report();
        return record;
      },
      flow.timing,
      settings.now,
    );
    c.set("session", current);
    if (migration) await migration.load(visit, current);

    await next();

    if (!current[TOUCHED]) return;
    appendHeaders(c, "Vary", ["Cookie"]);
    // Decide, then commit through the mode.
    const decision = current[DECIDE](visit.invalid && !visit.keepCookie);
    const headers = decision.action === "none"
      ? mode.unchanged(visit)
      : decision.action === "delete"
      ? await mode.remove(visit, current[LOADED] ?? visit.unloaded)
      : await mode.write(visit, decision, current[LOADED] ?? visit.unloaded);
    // Nothing at all to write: the cookie the browser holds must stay as it is.
    if (headers === undefined) return;
    if (migration) headers.push(...migration.expire(visit, decision));
    appendHeaders(c, "Set-Cookie", headers);
  };
}

/** One request's session cookie, what became of it, and what the `onInvalid` hook is owed. */
class Visit {
  /** The request carried a session cookie that did not open. */
  invalid = false;
  /**
   * A cookie that another instance of the fleet may still open (sealed under a key this one
   * lacks, or within a longer maxAge) is left alone unless the handler writes a new session.
   */
  keepCookie = false;
  /** Store mode: the stored session loaded with the cookie. */
  stored: StoredSession | undefined = undefined;
  /**
   * Failing open with the store down: the session whose data could not be loaded. The cookie is
   * good (it opened, and may well be fine once the store is back), so it is kept as is.
   */
  unloaded: OpenedRecord | undefined = undefined;
  /**
   * The hook hears of a refused cookie only when the handler uses the session, however early
   * the cookie had to be opened: an untouched session reports nothing.
   */
  #pending: InvalidReason | undefined = undefined;

  /**
   * @param c The request's context.
   * @param sealer The sealer, ready.
   * @param target The sealed cookie's name and attributes for this request.
   * @param found The sealed cookies the request carries.
   * @param value The sealed value to open; undefined when there is none to open.
   * @param foreignValue The foreign session cookie's value, when a bridge is configured.
   * @param onInvalid The hook.
   */
  constructor(
    readonly c: Context,
    readonly sealer: Sealer,
    readonly target: Target,
    readonly found: RequestCookies,
    readonly value: string | undefined,
    readonly foreignValue: string | undefined,
    readonly onInvalid: Settings["onInvalid"],
  ) {}

  /** Records why the request's cookie was refused; `keep` leaves it in the browser. */
  reject(error: unknown, keep = false): undefined {
    this.invalid = true;
    const reason = error instanceof InvalidSessionError ? error.reason : "malformed";
    this.#pending = reason;
    this.keepCookie = keep || reason === "unknown-key";
    return undefined;
  }

  /** Tells the hook why the cookie was refused, once. */
  report(): void {
    if (this.#pending === undefined) return;
    const reason = this.#pending;
    this.#pending = undefined;
    try {
      this.onInvalid?.(reason, this.c);
    } catch (hookError) {
      console.error("session: onInvalid hook failed", hookError);
    }
  }
}

/**
 * One way of keeping sessions (sealed cookie, server-side store, shared foreign cookie): how a
 * request's session is loaded, and how the end of the request is committed.
 */
interface Mode {
  /**
   * Loads the request's session. A loader returned synchronously opens the cookie lazily, when
   * the handler first uses the session; asynchronous checks load it before the handler.
   */
  load(visit: Visit): SessionLoader | Promise<SessionLoader>;
  /** The `Set-Cookie` headers of a request that leaves the session as it was. */
  unchanged(visit: Visit): string[];
  /** Deletes the session; returns the `Set-Cookie` headers. */
  remove(visit: Visit, loaded: OpenedRecord | undefined): Promise<string[]>;
  /** Writes the session; returns the `Set-Cookie` headers, or undefined to write nothing. */
  write(
    visit: Visit,
    decision: Extract<SessionDecision, { action: "write" }>,
    loaded: OpenedRecord | undefined,
  ): Promise<string[] | undefined>;
}

/** The loader of a request with no session to load. */
const NOTHING: SessionLoader = () => undefined;

/** What every mode shares, built once at set-up: the sealer, the open cache and the steps. */
class RequestFlow {
  /** The sealer, once its keys are derived. */
  sealer: Sealer | undefined;
  /** Resolves to the sealer; requests wait for it only the first time. */
  readonly ready: Promise<Sealer>;
  readonly timing: ConstructorParameters<typeof Session>[1];
  readonly #settings: Settings;
  readonly #plain: Target;
  readonly #secure: Target;
  readonly #maxValueBytes: number;
  /** Next secrets go after the current ones: they open, never seal. */
  readonly #sealingSecrets: number;
  readonly #opened: OpenCache;

  constructor(settings: Settings) {
    this.#settings = settings;
    ({ plain: this.#plain, secure: this.#secure } = targets(settings));
    this.#maxValueBytes = settings.maxChunks * MAX_COOKIE_BYTES;
    this.timing = {
      maxAge: settings.maxAge,
      idleTimeout: settings.idleTimeout,
      idleRefreshAfter: settings.idleRefreshAfter,
      persistent: settings.persistent,
    };
    this.#sealingSecrets = settings.secrets.length;
    this.#opened = new OpenCache(settings.openCacheSize);
    // Keys are derived once, here.
    this.ready = createSealer({
      secrets: [...settings.secrets, ...settings.nextSecrets],
      backend: settings.backend,
    }).then((s) => (this.sealer = s));
    // A derivation failure surfaces on each request (as a 500 through app.onError), never as an
    // unhandled rejection that would end the process.
    this.ready.catch(() => {});
  }

  /** Current time in milliseconds. */
  now(): number {
    return this.#settings.now();
  }

  /** The sealed session lifetime, in seconds. */
  get maxAge(): number {
    return this.#settings.maxAge;
  }

  /** Current Unix time in seconds, unrounded. */
  nowSeconds(): number {
    return this.#settings.now() / 1000;
  }

  /** Step 1: finds the request's session cookie (and the foreign one, with a bridge). */
  findCookie(c: Context, sealer: Sealer): Visit {
    const settings = this.#settings;
    const target = settings.secure === "auto"
      ? (c.req.url.startsWith("https:") ? this.#secure : this.#plain)
      : settings.secure
      ? this.#secure
      : this.#plain;
    const header = c.req.header("cookie");
    const found = readSessionCookies(header, target.name, this.#maxValueBytes);
    const foreign = settings.foreign;
    // Sealed values are base64url and never hold a ".": one that does is a foreign cookie's.
    const value = foreign?.mode === "shared" || found.value?.includes(".")
      ? undefined
      : found.value;
    const visit = new Visit(
      c,
      sealer,
      target,
      found,
      value,
      foreign?.find(header),
      settings.onInvalid,
    );
    if (found.oversized) visit.reject(new InvalidSessionError("malformed"));
    return visit;
  }

  /** Checks an opened record against the current settings. */
  accept(visit: Visit, record: OpenedRecord): OpenedRecord | undefined {
    // A lifetime shortened in the configuration applies to sessions already issued; the
    // cookie itself is kept, since an instance still on the longer lifetime may serve it.
    if (this.nowSeconds() >= record.issuedAt + this.#settings.maxAge) {
      return visit.reject(new InvalidSessionError("expired"), true);
    }
    // Opened with a next secret: not re-sealed back to the current one, or instances in
    // two phases of a rotation would rewrite each other's cookies on every read.
    return record.keyIndex >= this.#sealingSecrets ? { ...record, keyIndex: 0 } : record;
  }

  /** Opens the sealed cookie synchronously, through the open cache (`node:crypto` only). */
  openSync(visit: Visit): OpenedRecord | undefined {
    try {
      return this.accept(
        visit,
        this.#opened.open(visit.sealer, visit.value!, visit.target.name, this.nowSeconds()),
      );
    } catch (error) {
      return visit.reject(error);
    }
  }

  /** Opens the sealed cookie on any backend, before the handler. */
  async openEarly(visit: Visit): Promise<OpenedRecord | undefined> {
    if (visit.sealer.sync) return this.openSync(visit);
    try {
      // Web Crypto is asynchronous, so it opens here, through the same open cache.
      const record = await this.#opened.openAsync(
        visit.sealer,
        visit.value!,
        visit.target.name,
        this.nowSeconds(),
      );
      return this.accept(visit, record);
    } catch (error) {
      return visit.reject(error);
    }
  }

  /** Refuses an opened record whose session was revoked. */
  async checkRevoked(
    visit: Visit,
    record: OpenedRecord | undefined,
    revocation: SessionRevocation | undefined,
  ): Promise<OpenedRecord | undefined> {
    if (!record || !revocation) return record;
    const { id, issuedAt } = record;
    const revoked = await this.guarded(() => revocation.isRevoked(id, issuedAt), false);
    return revoked ? visit.reject(new InvalidSessionError("revoked")) : record;
  }

  /** Runs a server-side call; on an outage, fails closed (throws) or open (logs, `fallback`). */
  async guarded<T>(call: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof SessionError) || error.code !== "ERR_SESSION_STORE_UNAVAILABLE") {
        throw error;
      }
      const { failOpen } = this.#settings;
      console.error(
        `session: ${error.message} (failing ${failOpen ? "open" : "closed"})`,
        error.cause,
      );
      if (failOpen) return fallback;
      throw error;
    }
  }

  /**
   * Expires, now, the form of the sealed cookie that was not read when both a single cookie and
   * chunks were sent, rather than leave it to be read should the other one go. Writes and
   * deletions already expire every cookie they do not write.
   */
  staleCookies(visit: Visit): string[] {
    const { found, target } = visit;
    return found.stale.length === 0
      ? []
      : found.stale.map((n) => serializeCookie(n, "", target.attributes, 0));
  }

  /** The `Set-Cookie` headers that delete the sealed cookie, chunks and all. */
  deletionCookies(visit: Visit): string[] {
    return deletionCookies(visit.target.name, visit.target.attributes, visit.found.names);
  }

  /**
   * Seals a record into the `Set-Cookie` headers of the sealed cookie. Throws
   * SessionTooLargeError before any header is set: the old cookie stays.
   */
  async sealCookies(visit: Visit, record: SessionRecord, body: string): Promise<string[]> {
    const { sealer, target } = visit;
    const sealed = sealer.sync
      ? sealer.sealSync(record, target.name, body)
      : await sealer.seal(record, target.name, body);
    const expires = record.idleExpiresAt || record.expiresAt;
    return planSessionCookies(
      target.name,
      sealed,
      target.attributes,
      // A browser-session cookie has no Max-Age; its sealed deadlines still hold.
      record.persistent === false ? undefined : expires - Math.floor(this.nowSeconds()),
      this.#settings.maxChunks,
      visit.found.names,
    );
  }
}

/** Whether the handler started a new session (regenerate(), or a first write) over a loaded one. */
function renewedOver(loaded: OpenedRecord | undefined, record: SessionRecord): boolean {
  return loaded !== undefined && !sameBytes(loaded.id, record.id);
}

/** The default: the session's data sealed in the cookie, with an optional revocation list. */
function cookieMode(flow: RequestFlow, revocation: SessionRevocation | undefined): Mode {
  return {
    load(visit) {
      if (visit.value === undefined) return NOTHING;
      // Lazy: a handler that never uses the session costs no cryptography.
      if (visit.sealer.sync && !revocation) return () => flow.openSync(visit);
      return flow.openEarly(visit)
        .then((record) => flow.checkRevoked(visit, record, revocation))
        .then((record) => () => record);
    },
    unchanged: (visit) => flow.staleCookies(visit),
    async remove(visit, loaded) {
      if (loaded && revocation) {
        await flow.guarded(() => revocation.revoke(loaded.id, loaded.expiresAt), undefined);
      }
      return flow.deletionCookies(visit);
    },
    async write(visit, decision, loaded) {
      const { record } = decision;
      if (revocation && renewedOver(loaded, record)) {
        await flow.guarded(() => revocation.revoke(loaded!.id, loaded!.expiresAt), undefined);
      }
      return await flow.sealCookies(visit, record, decision.body);
    },
  };
}

/**
 * A server-side store: the cookie holds only the sealed session id, the data lives in the store
 * (loaded before the handler), with an optional revocation list.
 */
function storeMode(
  flow: RequestFlow,
  store: SessionStore,
  revocation: SessionRevocation | undefined,
): Mode {
  return {
    load(visit) {
      if (visit.value === undefined) return NOTHING;
      return (async () => {
        const record = await flow.checkRevoked(visit, await flow.openEarly(visit), revocation);
        if (!record) return NOTHING;
        const { id } = record;
        const answer = await flow.guarded<StoredSession | undefined | typeof STORE_DOWN>(
          () => store.load(id),
          STORE_DOWN,
        );
        if (answer === STORE_DOWN) {
          visit.unloaded = record;
          return NOTHING;
        }
        visit.stored = answer;
        const parsed = answer && decodeBody(answer.body);
        if (!parsed) {
          visit.reject(new InvalidSessionError("expired", { cause: new Error("not in store") }));
          return NOTHING;
        }
        const loaded = { ...record, data: parsed.data, flash: parsed.flash, body: answer!.body };
        return () => loaded;
      })();
    },
    unchanged: (visit) => flow.staleCookies(visit),
    async remove(visit, loaded) {
      if (loaded && revocation) {
        await flow.guarded(() => revocation.revoke(loaded.id, loaded.expiresAt), undefined);
      }
      if (loaded) await flow.guarded(() => store.delete(loaded.id), undefined);
      return flow.deletionCookies(visit);
    },
    async write(visit, decision, loaded) {
      // The store is down and this request saw an empty session: writing would replace the
      // visitor's session with whatever this request set. Only an explicit destroy() goes on.
      if (visit.unloaded) return undefined;
      const { record } = decision;
      const renewed = renewedOver(loaded, record);
      if (decision.dataChanged || renewed) {
        const expected = renewed ? undefined : visit.stored;
        const saved = await flow.guarded(
          () => store.save(record.id, decision.body, record.expiresAt, expected).then(() => true),
          false,
        );
        // Failing open and not saved: keep the cookie pointing at the data still stored.
        if (!saved) return undefined;
      }
      if (renewed) await flow.guarded(() => store.delete(loaded!.id), undefined);
      if (renewed && revocation) {
        await flow.guarded(() => revocation.revoke(loaded!.id, loaded!.expiresAt), undefined);
      }
      // The cookie holds only the sealed id; it changes only with the id or the deadlines.
      if (!decision.cookieDue) return [];
      return await flow.sealCookies(visit, { ...record, data: {}, flash: undefined }, "{}");
    },
  };
}

/**
 * A foreign cookie shared with another app (Flask's `shared` mode): the session is read from and
 * written to it; no sealed cookie is used.
 */
function sharedForeignMode(flow: RequestFlow, foreign: ForeignSession): Mode {
  return {
    load(visit) {
      const value = visit.foreignValue;
      if (value === undefined) return NOTHING;
      return foreign.read(value, flow.now()).then((session) => {
        if (!session) {
          visit.reject(refusedForeign());
          return NOTHING;
        }
        const record = foreignRecord(session, flow.nowSeconds(), flow.maxAge);
        return () => record;
      });
    },
    unchanged: () => [],
    remove: () => Promise.resolve([foreign.clear()]),
    async write(_visit, decision) {
      return [await foreign.write(decision.record, flow.now())];
    },
  };
}

/**
 * Migrating from a foreign cookie (Flask's `migrate` mode): a request with no sealed session
 * but a valid foreign cookie starts a new sealed session with its data, and the foreign cookie
 * is expired.
 */
function foreignMigration(flow: RequestFlow, foreign: ForeignSession) {
  return {
    /** Moves the foreign session into the request's new sealed session. */
    async load<Data extends SessionData>(visit: Visit, current: Session<Data>): Promise<void> {
      if (visit.foreignValue === undefined || visit.value !== undefined) return;
      const session = await foreign.read(visit.foreignValue, flow.now());
      if (!session) {
        visit.reject(refusedForeign());
        return;
      }
      for (const [k, v] of Object.entries(session.data)) current.set(k as never, v as never);
      current.persistent = session.persistent !== false;
    },
    /**
     * A foreign cookie the request carried is expired by every response that uses the session,
     * however it ends (written, destroyed, or only read), so that a destroyed session cannot
     * come back from it. Not when the sealed cookie written or deleted here is that very cookie:
     * the sealed headers replace it.
     */
    expire(visit: Visit, decision: SessionDecision): string[] {
      if (visit.foreignValue === undefined) return [];
      const replaced = decision.action !== "none" &&
        foreign.isCookie(visit.target.name, visit.target.attributes);
      return replaced ? [] : [foreign.clear()];
    },
  };
}

/** The error a foreign cookie that does not verify is refused with. */
function refusedForeign(): InvalidSessionError {
  return new InvalidSessionError("forged", { cause: new Error("foreign session cookie") });
}

/**
 * A foreign session as an opened record: it has no id or deadlines of its own.
 *
 * @param session The foreign session.
 * @param now Current Unix time in seconds.
 * @param maxAge The sealed session lifetime, for the record's deadline.
 * @returns The record.
 */
function foreignRecord(session: ForeignSessionData, now: number, maxAge: number): OpenedRecord {
  return {
    id: crypto.getRandomValues(new Uint8Array(SESSION_ID_LENGTH)),
    issuedAt: Math.floor(now),
    expiresAt: Math.floor(now) + maxAge,
    idleExpiresAt: 0,
    data: session.data,
    flash: session.flash,
    persistent: session.persistent !== false,
    keyIndex: 0,
    body: encodeBody(session.data, session.flash),
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
