/**
 * The sealed session cookie of a request: finding it (and its chunks), opening it through the
 * open cache under the current settings, and sealing a record into `Set-Cookie` headers. Its
 * {@linkcode cookieMode} is the base mode every other layer wraps.
 *
 * @module
 */

import type { Context } from "hono";
import {
  cookieHeaderBytes,
  deletionCookies,
  planSessionCookies,
  readSessionCookies,
  serializeCookie,
  tooLargeForCookies,
} from "./cookie.ts";
import { InvalidSessionError } from "./errors.ts";
import { type Mode, NOTHING } from "./mode.ts";
import { OpenCache } from "./open_cache.ts";
import { type Settings, type Target, targets } from "./options.ts";
import {
  createSealer,
  type OpenedRecord,
  sealedLength,
  type Sealer,
  type SessionRecord,
} from "./seal.ts";
import { Visit } from "./visit.ts";

/** Seconds by which instances' clocks may differ, as the idle refresh allows too. */
const CLOCK_SKEW = 60;

/** The sealed cookies of one configuration: built once at set-up, used by every request. */
export class SealedCookies {
  /** The sealer, once its keys are derived. */
  sealer: Sealer | undefined;
  /** Resolves to the sealer; requests wait for it only the first time. */
  readonly ready: Promise<Sealer>;
  readonly #settings: Settings;
  readonly #plain: Target;
  readonly #secure: Target;
  readonly #maxValueBytes: number;
  /** Next secrets go after the current ones: they open, never seal. */
  readonly #sealingSecrets: number;
  readonly #opened: OpenCache;

  /** @param settings The normalised options. */
  constructor(settings: Settings) {
    this.#settings = settings;
    ({ plain: this.#plain, secure: this.#secure } = targets(settings));
    this.#maxValueBytes = settings.maxCookieBytes;
    this.#sealingSecrets = settings.secrets.length;
    this.#opened = new OpenCache(settings.openCacheSize);
    // Keys are derived once, here.
    this.ready = createSealer({
      secrets: [...settings.secrets, ...settings.nextSecrets],
      backend: settings.backend,
    }).then((sealer) => (this.sealer = sealer));
    // A derivation failure surfaces on each request (as a 500 through app.onError), never as an
    // unhandled rejection that would end the process.
    this.ready.catch(() => {});
  }

  /** Current Unix time in seconds, unrounded. */
  nowSeconds(): number {
    return this.#settings.now() / 1000;
  }

  /**
   * Finds the request's session cookie (and the foreign one, when configured).
   *
   * @param c The request's context.
   * @param sealer The sealer, ready.
   * @returns The visit.
   */
  find(c: Context, sealer: Sealer): Visit {
    const settings = this.#settings;
    const target = settings.secure === "auto"
      ? (c.req.url.startsWith("https:") ? this.#secure : this.#plain)
      : settings.secure
      ? this.#secure
      : this.#plain;
    const header = c.req.header("cookie");
    const { foreign } = settings;
    const found = readSessionCookies(header, target.name, this.#maxValueBytes, foreign?.claims);
    const visit = new Visit(
      c,
      sealer,
      target,
      found,
      foreign?.mode === "shared" ? undefined : found.value,
      foreign?.find(header),
      settings.onInvalid,
    );
    if (found.oversized) visit.reject(new InvalidSessionError("malformed"));
    return visit;
  }

  /**
   * Opens the request's sealed cookie through the open cache: at once on a synchronous backend,
   * with a promise on an asynchronous one. A cookie that does not open is recorded on the visit.
   *
   * @param visit The request's visit, with a value to open.
   * @returns The record, or undefined when refused.
   */
  open(visit: Visit): OpenedRecord | undefined | Promise<OpenedRecord | undefined> {
    let opened: OpenedRecord | Promise<OpenedRecord>;
    try {
      opened = this.#opened.open(visit.sealer, visit.value!, visit.target.name, this.nowSeconds());
    } catch (error) {
      return visit.reject(error);
    }
    return opened instanceof Promise
      ? opened.then((record) => this.#accept(visit, record), (error) => visit.reject(error))
      : this.#accept(visit, opened);
  }

  /**
   * Throws when a session body would make the sealed cookies exceed `maxCookieBytes`: checked
   * at each change, before anything is written.
   *
   * @param visit The request's visit (its cookie name).
   * @param bodyBytes UTF-8 bytes of the session's JSON body.
   * @param headerBytes Header bytes beyond the fixed fields: the subject's UTF-8, the start time.
   * @throws {SessionTooLargeError} Naming the budget.
   */
  fits(visit: Visit, bodyBytes: number, headerBytes: number): void {
    const { name, attributes } = visit.target;
    const length = sealedLength(bodyBytes, headerBytes);
    // The longest Max-Age a write can carry, so that what passes here passes at the commit.
    const needed = cookieHeaderBytes(name, length, attributes, this.#settings.maxAge);
    const budget = this.#settings.maxCookieBytes;
    if (needed > budget) throw tooLargeForCookies(needed, budget);
  }

  /** Checks an opened record against the current settings. */
  #accept(visit: Visit, record: OpenedRecord): OpenedRecord | undefined {
    const now = this.nowSeconds();
    // A lifetime shortened in the configuration applies to sessions already issued; the
    // cookie itself is kept, since an instance still on the longer lifetime may serve it.
    if (now >= record.issuedAt + this.#settings.maxAge || this.#idle(record, now)) {
      return visit.reject(new InvalidSessionError("expired"), true);
    }
    // Opened with a next secret: not re-sealed back to the current one, or instances in
    // two phases of a rotation would rewrite each other's cookies on every read.
    return record.keyIndex >= this.#sealingSecrets ? { ...record, keyIndex: 0 } : record;
  }

  /**
   * Whether a session has been idle longer than the current `idleTimeout`, whatever deadline
   * it was sealed with: every copy of a cookie is held to it, counted from when it was sealed.
   * A value sealed before the sealing time was recorded is trusted only while its own idle
   * deadline lies within the current timeout; else its last use is unknown, and it is held to
   * the timeout from its issue.
   */
  #idle(record: OpenedRecord, now: number): boolean {
    const timeout = this.#settings.idleTimeout;
    if (timeout === undefined) return false;
    if (record.sealedAt !== undefined) return now >= record.sealedAt + timeout;
    const { idleExpiresAt } = record;
    if (idleExpiresAt !== 0 && idleExpiresAt <= now + timeout + CLOCK_SKEW) return false;
    return now >= Math.floor(record.issuedAt) + timeout;
  }

  /**
   * Expires, now, the form of the sealed cookie that was not read when both a single cookie and
   * chunks were sent, rather than leave it to be read should the other one go. Writes and
   * deletions already expire every cookie they do not write.
   *
   * @param visit The request's visit.
   * @returns The `Set-Cookie` headers.
   */
  stale(visit: Visit): string[] {
    const { found, target } = visit;
    return found.stale.map((name) => serializeCookie(name, "", target.attributes, 0));
  }

  /**
   * The `Set-Cookie` headers that delete the sealed cookie, chunks and all.
   *
   * @param visit The request's visit.
   * @returns The headers.
   */
  deletion(visit: Visit): string[] {
    return deletionCookies(visit.target.name, visit.target.attributes, visit.found.names);
  }

  /**
   * Seals a record into the `Set-Cookie` headers of the sealed cookie.
   *
   * @param visit The request's visit.
   * @param record The record.
   * @param body Its data and flash as JSON text.
   * @returns The headers.
   * @throws {SessionTooLargeError} Before any header is set: the old cookie stays.
   */
  async seal(visit: Visit, record: SessionRecord, body: string): Promise<string[]> {
    const { sealer, target } = visit;
    const sealing = sealer.seal(record, target.name, body);
    const value = typeof sealing === "string" ? sealing : await sealing;
    const expires = record.idleExpiresAt || record.expiresAt;
    return planSessionCookies(
      target.name,
      value,
      target.attributes,
      // A browser-session cookie has no Max-Age; its sealed deadlines still hold.
      record.persistent === false ? undefined : expires - Math.floor(this.nowSeconds()),
      this.#settings.maxCookieBytes,
      visit.found.names,
    );
  }
}

/**
 * The default mode: the session's data sealed in the cookie. On a synchronous backend the
 * cookie is opened lazily, when the handler first uses the session: a handler that never does
 * costs no cryptography.
 *
 * @param cookies The sealed cookies.
 * @returns The mode.
 */
export function cookieMode(cookies: SealedCookies): Mode {
  const openNow = (visit: Visit) => cookies.open(visit) as OpenedRecord | undefined;
  return {
    load(visit) {
      if (visit.value === undefined) return NOTHING;
      if (visit.sealer.sync) return openNow;
      return Promise.resolve(cookies.open(visit)).then((record) => () => record);
    },
    fits: (visit, bodyBytes, headerBytes) => cookies.fits(visit, bodyBytes, headerBytes),
    unchanged: (visit) => cookies.stale(visit),
    remove: (visit) => Promise.resolve(cookies.deletion(visit)),
    write: (visit, decision) => cookies.seal(visit, decision.record, decision.body),
  };
}
