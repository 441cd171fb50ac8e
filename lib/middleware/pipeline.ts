/**
 * The steps of one request, in the order they happen: find the cookie (or the foreign one),
 * open it (now, or when the handler first touches the session), check revocation, load from the
 * store, move a foreign session in; then, after the handler, seal the cookie, save or delete in
 * the store, record revocations and cut-offs, and hand over the `Set-Cookie` headers. Each
 * optional step is a plain step guarded by its option; outages are decided once, by the guards
 * of `outage.ts`. Built once per configuration by `session()`.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import {
  cookieHeaderBytes,
  deletionCookies,
  planSessionCookies,
  serializeCookie,
  tooLargeForCookies,
} from "../cookie/write.ts";
import { readSessionCookies } from "../cookie/read.ts";
import { InvalidSessionError } from "../common/errors.ts";
import type { ForeignSession, ForeignSessionData } from "./foreign.ts";
import {
  type GuardedStore,
  guardRevocation,
  guardStore,
  keepsSessions,
  UNAVAILABLE,
} from "../server_side/outage.ts";
import { type Settings, type Target, targets } from "./options.ts";
import { hex, sameBytes, utf8Length } from "../common/bytes.ts";
import {
  createCachingSealer,
  decodeBody,
  encodeBody,
  type OpenedRecord,
  sealedLength,
  type Sealer,
  SESSION_ID_LENGTH,
} from "../sealing/sealer.ts";
import type { SessionRevocation } from "../server_side/contracts.ts";
import {
  COMMITTED,
  DECIDE,
  LOADED,
  Session,
  type SessionData,
  type SessionDecision,
  type SessionTiming,
  TOUCHED,
} from "../session/session.ts";
import { Visit, type VisitSettings } from "./visit.ts";

/**
 * Hono environment with a typed session, for `new Hono<SessionEnv<Data>>()`.
 *
 * @typeParam Data The shape of the session data.
 */
export type SessionEnv<Data extends SessionData = SessionData> = {
  Variables: { session: Session<Data> };
};

/** A decision that changes something: to delete the session, or to write it. */
type Change = Exclude<SessionDecision, { action: "none" }>;
/** The decision to write, as the write steps take it. */
type WriteDecision = Extract<SessionDecision, { action: "write" }>;

/** The steps of every request of one configuration. */
export class Pipeline {
  /** The sealer, once its keys are derived. */
  #sealer: Sealer | undefined;
  /** Resolves to the sealer; requests wait for it only the first time. */
  readonly #ready: Promise<Sealer>;
  readonly #settings: Settings;
  readonly #visits: VisitSettings;
  readonly #timing: SessionTiming;
  readonly #plain: Target;
  readonly #secure: Target;
  /** The foreign cookie is the session (no sealed cookie): `foreign: flaskShared(…)`. */
  readonly #shared: ForeignSession | undefined;
  /** A foreign cookie is moved into a new sealed session once: `foreign: flaskMigration(…)`. */
  readonly #migrating: ForeignSession | undefined;
  readonly #revocation: SessionRevocation | undefined;
  /** The revocation list, when it keeps each subject's list of signed-in sessions. */
  readonly #lists: Required<SessionRevocation> | undefined;
  readonly #store: GuardedStore | undefined;
  /** No revocation list, store or shared foreign cookie: nothing to check before the handler. */
  readonly #checksNothing: boolean;

  /** @param settings The normalised options. */
  constructor(settings: Settings) {
    this.#settings = settings;
    ({ plain: this.#plain, secure: this.#secure } = targets(settings));
    const { foreign, revocation, store, failOpen } = settings;
    this.#shared = foreign?.mode === "shared" ? foreign : undefined;
    this.#migrating = foreign?.mode === "migrate" ? foreign : undefined;
    this.#revocation = revocation && guardRevocation(revocation, failOpen);
    this.#lists = this.#revocation && keepsSessions(this.#revocation)
      ? this.#revocation as Required<SessionRevocation>
      : undefined;
    this.#store = store && guardStore(store, failOpen);
    this.#checksNothing = !this.#shared && !this.#revocation && !this.#store;
    const storeFits = this.#store?.assertFits;
    this.#visits = {
      lifetimes: settings,
      sealingSecrets: settings.secrets.length,
      onInvalid: settings.onInvalid,
      list: this.#lists,
      now: settings.now,
      // The cookie holds only the id with a store: the store's own limit is the one to check.
      fits: this.#shared
        ? () => {}
        : this.#store
        ? (_visit, bodyBytes) => storeFits?.(bodyBytes)
        : (visit, bodyBytes, headerBytes) => this.#fitsCookie(visit, bodyBytes, headerBytes),
    };
    this.#timing = {
      maxAge: settings.maxAge,
      persistentMaxAge: settings.persistentMaxAge,
      idleTimeout: settings.idleTimeout,
      idleRefreshAfter: settings.idleRefreshAfter,
      persistent: settings.persistent,
      subjectRevocation: typeof this.#revocation?.revokeSubject === "function",
      sessionList: this.#lists !== undefined,
    };
    // Keys are derived once, here.
    this.#ready = createCachingSealer({
      secrets: [...settings.secrets, ...settings.nextSecrets],
      backend: settings.backend,
    }, settings.openCacheSize).then((sealer) => (this.#sealer = sealer));
    // A derivation failure surfaces on each request (as a 500 through app.onError), never as an
    // unhandled rejection that would end the process.
    this.#ready.catch(() => {});
  }

  /**
   * The middleware: every step of a request, in the order they happen.
   *
   * @typeParam Data The shape of the session data.
   * @returns The named handler `session(c, next)`.
   */
  handler<Data extends SessionData>(): MiddlewareHandler<SessionEnv<Data>> {
    // An arrow function named by its binding: stack traces read `session`.
    const session: MiddlewareHandler<SessionEnv<Data>> = async (c, next) => {
      const visit = this.#find(c, this.#sealer ?? await this.#ready);
      // Where the cipher answers at once and nothing else is to check, the cookie is opened
      // when the handler first touches the session: a handler that never does costs nothing.
      if (visit.sealer.sync && this.#checksNothing) visit.openWhenTouched();
      else await this.#open(visit);
      const current = new Session<Data>(visit, this.#timing, this.#settings.now);
      c.set("session", current);
      const migrated = this.#migrating ? await this.#migrate(visit, current) : undefined;

      await next();

      current[COMMITTED]();
      // A handler that failed (threw, answered as a server error) saves nothing: what it
      // changed before failing may be half a change.
      if (!current[TOUCHED] || (c.error !== undefined && c.res.status >= 500)) return;
      const vary = c.res.headers.get("vary");
      if (vary === null || !VARIES_ON_COOKIE.test(vary)) appendHeaders(c, "Vary", ["Cookie"]);
      const decision = current[DECIDE](visit.deletesRefused);
      const loaded = current[LOADED] ?? visit.unloadedRecord;
      // A session only read stores and records nothing: its headers are known at once.
      const headers = decision.action === "none"
        ? this.#unchanged(visit)
        : await this.#commit(visit, decision, loaded, migrated);
      // Nothing at all to write: the cookie the browser holds must stay as it is.
      if (headers !== undefined) appendHeaders(c, "Set-Cookie", headers);
    };
    return session;
  }

  // ---- before the handler ----------------------------------------------------------------

  /**
   * Finds the request's session cookie: the sealed one (its chunks joined), or the foreign one.
   *
   * @param c The request's context.
   * @param sealer The sealer, ready.
   * @returns The visit.
   */
  #find(c: Context, sealer: Sealer): Visit {
    const settings = this.#settings;
    const target = settings.secure === "auto"
      ? (c.req.url.startsWith("https:") ? this.#secure : this.#plain)
      : settings.secure
      ? this.#secure
      : this.#plain;
    const header = c.req.header("cookie");
    const { foreign } = settings;
    const found = readSessionCookies(header, target.name, settings.maxCookieBytes, foreign?.claims);
    const visit = new Visit(
      c,
      this.#visits,
      sealer,
      target,
      found,
      this.#shared ? undefined : found.value,
      foreign?.find(header),
    );
    if (found.oversized) visit.refuse(new InvalidSessionError("malformed"));
    return visit;
  }

  /**
   * Opens the session now (unless it is opened when touched): the sealed cookie,
   * then checks it against the revocation list and loads its data from the store, as
   * configured; or reads a shared foreign cookie.
   *
   * @param visit The request's visit.
   */
  async #open(visit: Visit): Promise<void> {
    if (this.#shared) return await this.#readShared(visit, this.#shared);
    const record = await visit.openNow();
    if (record && this.#revocation) await this.#checkRevocation(visit, record, this.#revocation);
    if (visit.record && this.#store) await this.#loadStored(visit, visit.record, this.#store);
  }

  async #checkRevocation(
    visit: Visit,
    record: OpenedRecord,
    revocation: SessionRevocation,
  ): Promise<void> {
    const { subject, handle } = record;
    const listed = handle && hex(handle);
    if (await revocation.isRevoked(record.id, record.startedAt, subject, listed)) {
      visit.refuse(new InvalidSessionError("revoked"));
    } else if (listed && subject !== undefined && this.#lists) {
      // Coarse, and not waited for: the list writes it down at most once per interval, and a
      // write that fails (logged by the outage guard) costs the request nothing.
      void this.#lists.seenSession(subject, listed, record.expiresAt);
    }
  }

  async #loadStored(visit: Visit, record: OpenedRecord, store: GuardedStore): Promise<void> {
    const answer = await store.load(record.id);
    if (answer === UNAVAILABLE) return visit.unloaded(record);
    const parsed = answer && decodeBody(answer.body);
    if (!parsed) {
      visit.refuse(new InvalidSessionError("expired", { cause: new Error("not in store") }));
      return;
    }
    visit.loaded({ ...record, data: parsed.data, flash: parsed.flash, body: answer.body }, answer);
  }

  async #readShared(visit: Visit, foreign: ForeignSession): Promise<void> {
    const value = visit.foreignValue;
    if (value === undefined) return;
    const session = await foreign.read(value, this.#settings.now());
    if (!session) return void visit.refuse(refusedForeign());
    visit.loaded(foreignRecord(session, this.#settings.now() / 1000, this.#settings.maxAge));
  }

  /**
   * A request with no sealed session but a valid foreign cookie to migrate gets its data as a
   * new sealed session. With a revocation list, a foreign cookie moves once: its copies are
   * refused afterwards, and so is one written before the list's cut-off. One too large for the
   * sealed session is refused as malformed: no request could get past it otherwise.
   *
   * @param visit The request's visit.
   * @param current The request's session.
   * @returns The foreign session moved in, if one was.
   */
  async #migrate<Data extends SessionData>(
    visit: Visit,
    current: Session<Data>,
  ): Promise<ForeignSessionData | undefined> {
    const foreign = this.#migrating;
    if (!foreign || visit.foreignValue === undefined || visit.value !== undefined) return;
    const session = await foreign.read(visit.foreignValue, this.#settings.now());
    if (!session) return visit.refuse(refusedForeign());
    try {
      visit.fits(utf8Length(encodeBody(session.data)), 0);
    } catch (error) {
      return visit.refuse(new InvalidSessionError("malformed", { cause: error }));
    }
    const { id, issuedAt } = session;
    if (this.#revocation && id && issuedAt !== undefined) {
      if (await this.#revocation.isRevoked(id, issuedAt)) {
        return visit.refuse(new InvalidSessionError("revoked", { cause: refusedForeign().cause }));
      }
    }
    for (const [k, v] of Object.entries(session.data)) current.set(k as never, v as never);
    current.persistent = session.persistent !== false;
    return session;
  }

  // ---- after the handler -----------------------------------------------------------------

  /**
   * The headers of a request that leaves the session as it was: nothing to store or record.
   * Expires the form of the sealed cookie that was not read when both a single cookie and
   * chunks were sent (rather than leave it to be read should the other one go), and a foreign
   * cookie a migrating request carried.
   *
   * @param visit The request's visit.
   * @returns The `Set-Cookie` headers.
   */
  #unchanged(visit: Visit): string[] {
    if (this.#shared) return [];
    const { found, target } = visit;
    const headers = found.stale.map((name) => serializeCookie(name, "", target.attributes, 0));
    if (this.#migrating && visit.foreignValue !== undefined) headers.push(this.#migrating.clear());
    return headers;
  }

  /**
   * Everything the end of a request that changed the session does, in order: seals the cookie
   * (so that a session too large throws before anything is stored), saves or deletes in the
   * store, records the revocations and cut-offs, and expires a migrated foreign cookie.
   *
   * @param visit The request's visit.
   * @param decision What the session decided.
   * @param loaded The record the request loaded (or could not load the data of), if any.
   * @param migrated The foreign session moved in, if one was.
   * @returns The `Set-Cookie` headers; undefined when the browser's cookie must stay as it is.
   */
  async #commit(
    visit: Visit,
    decision: Change,
    loaded: OpenedRecord | undefined,
    migrated: ForeignSessionData | undefined,
  ): Promise<string[] | undefined> {
    let headers: string[] | undefined = await this.#cookieHeaders(visit, decision);
    if (this.#store) {
      headers = await this.#saveStored(visit, decision, loaded, headers, this.#store);
    }
    if (this.#revocation) {
      await this.#recordEnds(decision, loaded, headers !== undefined, this.#revocation);
    }
    if (headers && this.#migrating) {
      headers.push(...await this.#migrated(visit, migrated, this.#migrating));
    }
    return headers;
  }

  /** The cookie's headers: nothing is stored or sent yet. */
  async #cookieHeaders(visit: Visit, decision: Change): Promise<string[]> {
    const shared = this.#shared;
    if (decision.action === "delete") {
      return shared
        ? [shared.clear()]
        : deletionCookies(visit.target.name, visit.target.attributes, visit.found.names);
    }
    if (shared) return [await shared.write(decision.record, this.#settings.now())];
    // With a store, the cookie holds only the sealed id: it changes with the id or deadlines.
    if (this.#store && !decision.cookieDue) return [];
    return this.#sealCookie(visit, decision);
  }

  /**
   * Seals a record into the `Set-Cookie` headers of the sealed cookie.
   *
   * @throws {SessionTooLargeError} Before any header is set: the old cookie stays.
   */
  async #sealCookie(visit: Visit, decision: WriteDecision): Promise<string[]> {
    const { sealer, target } = visit;
    const { record } = decision;
    const value = this.#store
      ? await sealer.seal({ ...record, data: {}, flash: undefined }, target.name, "{}")
      : await sealer.seal(record, target.name, decision.body);
    const expires = record.idleExpiresAt || record.expiresAt;
    return planSessionCookies(
      target.name,
      value,
      target.attributes,
      // A browser-session cookie has no Max-Age; its sealed deadlines still hold.
      record.persistent === false ? undefined : expires - Math.floor(this.#settings.now() / 1000),
      this.#settings.maxCookieBytes,
      visit.found.names,
    );
  }

  /**
   * Saves the data (with the version loaded) or deletes it. Returns the cookie headers to send,
   * or undefined to keep the browser's cookie as it is: the store is down and this request saw
   * an empty session, or (failing open) the save did not happen.
   */
  async #saveStored(
    visit: Visit,
    decision: Change,
    loaded: OpenedRecord | undefined,
    headers: string[],
    store: GuardedStore,
  ): Promise<string[] | undefined> {
    if (decision.action === "delete") {
      if (loaded) await store.delete(loaded.id);
      return headers;
    }
    // Writing now would replace the visitor's session with whatever this request set: only an
    // explicit destroy() goes on while the store is down.
    if (visit.unloadedRecord) return undefined;
    const { record } = decision;
    const renewed = renewedOver(loaded, record.id);
    if (decision.dataChanged || renewed) {
      const expected = renewed ? undefined : visit.stored;
      if (!await store.save(record.id, decision.body, record.expiresAt, expected)) return undefined;
    }
    if (renewed) await store.delete(loaded!.id);
    return headers;
  }

  /**
   * Records what the request ended: every subject signed out everywhere (whatever becomes of the
   * cookie), the session deleted, or the id a written session replaced; and keeps the subject's
   * list of signed-in sessions: a session issued or changed there is recorded, an ended one
   * leaves it.
   */
  async #recordEnds(
    decision: Change,
    loaded: OpenedRecord | undefined,
    written: boolean,
    revocation: SessionRevocation,
  ): Promise<void> {
    // Only decided when the list keeps per-subject cut-offs (checked at the call).
    for (const { subject, before } of decision.signOuts ?? []) {
      await revocation.revokeSubject!(subject, new Date(before));
    }
    const record = decision.action === "write" && written ? decision.record : undefined;
    if (loaded) {
      const ended = decision.action === "delete" || (record && renewedOver(loaded, record.id));
      if (ended) await revocation.revoke(loaded.id, loaded.expiresAt);
    }
    const lists = this.#lists;
    if (!lists) return;
    if (record?.subject !== undefined && record.handle && decision.action === "write") {
      const { listed } = decision;
      if (listed) {
        await lists.addSession(record.subject, {
          id: hex(record.handle),
          label: listed.label,
          issuedAt: record.startedAt ?? record.issuedAt,
          lastSeenAt: this.#settings.now() / 1000,
          expiresAt: record.expiresAt,
        });
      }
    }
    // The loaded session left the list: deleted, or replaced by another subject's or handle.
    if (loaded?.subject !== undefined && loaded.handle) {
      const kept = record && record.subject === loaded.subject && record.handle &&
        sameBytes(record.handle, loaded.handle);
      if (decision.action === "delete" || (record && !kept)) {
        await lists.removeSession(loaded.subject, hex(loaded.handle));
      }
    }
  }

  /**
   * After a migration: remembers the foreign cookie moved in as used, and expires a foreign
   * cookie the request carried, however the request ended (written or destroyed here, only read
   * in `#unchanged()`), so that a destroyed session cannot come back from it.
   * Not when the sealed cookie written or deleted here is that very cookie: the sealed headers
   * replace it.
   */
  async #migrated(
    visit: Visit,
    migrated: ForeignSessionData | undefined,
    foreign: ForeignSession,
  ): Promise<string[]> {
    if (this.#revocation && migrated?.id) {
      const expiresAt = migrated.expiresAt ??
        Math.floor(this.#settings.now() / 1000) + this.#settings.maxAge;
      await this.#revocation.revoke(migrated.id, expiresAt);
    }
    if (visit.foreignValue === undefined) return [];
    const replaced = foreign.isCookie(visit.target.name, visit.target.attributes);
    return replaced ? [] : [foreign.clear()];
  }

  /**
   * Throws when a session body would make the sealed cookies exceed `maxCookieBytes`: checked
   * at each change, before anything is written.
   */
  #fitsCookie(visit: Visit, bodyBytes: number, headerBytes: number): void {
    const { name, attributes } = visit.target;
    const length = sealedLength(bodyBytes, headerBytes);
    // The longest Max-Age a write can carry, so that what passes here passes at the commit.
    const needed = cookieHeaderBytes(name, length, attributes, this.#settings.persistentMaxAge);
    const budget = this.#settings.maxCookieBytes;
    if (needed > budget) throw tooLargeForCookies(needed, budget);
  }
}

/**
 * Whether the handler started a new session (`regenerate()`, or a write after `destroy()`)
 * over the one that was loaded: the old id is then ended.
 */
function renewedOver(loaded: OpenedRecord | undefined, id: Uint8Array): boolean {
  return loaded !== undefined && !sameBytes(loaded.id, id);
}

/** The error a foreign cookie that does not verify is refused with. */
function refusedForeign(): InvalidSessionError {
  return new InvalidSessionError("forged", { cause: new Error("foreign session cookie") });
}

/** A foreign session as an opened record: it has no id or deadlines of its own. */
function foreignRecord(session: ForeignSessionData, now: number, maxAge: number): OpenedRecord {
  return {
    id: crypto.getRandomValues(new Uint8Array(SESSION_ID_LENGTH)),
    issuedAt: Math.floor(now),
    startedAt: Math.floor(now),
    expiresAt: Math.floor(now) + maxAge,
    idleExpiresAt: 0,
    data: session.data,
    flash: session.flash,
    persistent: session.persistent !== false,
    sealedAt: undefined,
    keyIndex: 0,
    body: encodeBody(session.data, session.flash),
  };
}

/** A `Vary` value that already names `Cookie` (or is `*`). */
const VARIES_ON_COOKIE = /(?:^|,)[ \t]*(?:cookie|\*)[ \t]*(?:,|$)/i;

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
