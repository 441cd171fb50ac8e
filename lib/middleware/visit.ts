/**
 * One request's visit: the session cookie it carried, the record it opened to (now, or when the
 * handler first touches the session), whether it was refused, and what the `onInvalid` hook is
 * owed. The visit is the only writer of its own state; the steps of `pipeline.ts` tell it what
 * they found.
 *
 * @module
 */

import type { Context } from "hono";
import type { RequestCookies } from "../cookie/read.ts";
import { errorSummary, type InvalidReason, InvalidSessionError } from "../common/errors.ts";
import { type Lifetimes, outlived } from "../sealing/lifetime.ts";
import type { Settings, Target } from "./options.ts";
import type { OpenedRecord, Sealer } from "../sealing/sealer.ts";
import type { StoredSession } from "../server_side/contracts.ts";
import type { SessionList, SessionSource } from "../session/session.ts";

/** What every visit of one configuration shares: built once, at set-up. */
export interface VisitSettings {
  /** The configured lifetimes, which a record within its sealed deadlines may still outlive. */
  lifetimes: Lifetimes;
  /** Secrets that seal: a record opened with a later one (a next secret) is not re-sealed. */
  sealingSecrets: number;
  /** The hook told of refused cookies. */
  onInvalid: Settings["onInvalid"];
  /** Current time in milliseconds. */
  now: () => number;
  /** Throws `SessionTooLargeError` when a session of this size does not fit where it is kept. */
  fits(visit: Visit, bodyBytes: number, headerBytes: number): void;
  /** The subjects' lists of signed-in sessions, when the revocation list keeps them. */
  list: SessionList | undefined;
}

/** One request's session cookie and its fate: the source its {@linkcode Session} reads. */
export class Visit implements SessionSource {
  /** The record, once opened (and checked, and loaded). */
  #record: OpenedRecord | undefined;
  /** The sealed cookie is opened when the handler first touches the session. */
  #lazy = false;
  #invalid = false;
  #keepCookie = false;
  #unloaded: OpenedRecord | undefined;
  #stored: StoredSession | undefined;
  /**
   * The hook hears of a refused cookie only when the handler uses the session, however early
   * the cookie had to be opened: an untouched session reports nothing.
   */
  #pending: InvalidReason | undefined;

  /**
   * @param c The request's context.
   * @param settings What every visit shares.
   * @param sealer The sealer, ready.
   * @param target The sealed cookie's name and attributes for this request.
   * @param found The sealed cookies the request carries.
   * @param value The sealed value to open; undefined when there is none to open.
   * @param foreignValue The foreign session cookie's value, when one is configured.
   */
  constructor(
    readonly c: Context,
    readonly settings: VisitSettings,
    readonly sealer: Sealer,
    readonly target: Target,
    readonly found: RequestCookies,
    readonly value: string | undefined,
    readonly foreignValue: string | undefined,
  ) {}

  /**
   * The session's record, for its {@linkcode Session}: called at most once, on first use. A
   * sealed cookie left for then is opened now; then the hook hears of a refused cookie.
   *
   * @returns The record, or undefined when there is none or it was refused.
   */
  open(): OpenedRecord | undefined {
    if (this.#lazy) {
      this.#lazy = false;
      this.#openedOrRefused(() => this.sealer.openNow(this.value!, this.target.name, this.#now()));
    }
    this.#report();
    return this.#record;
  }

  /**
   * Checks that a session of this size fits where it is kept.
   *
   * @param bodyBytes UTF-8 bytes of the session's JSON body.
   * @param headerBytes Header bytes beyond the fixed fields: the subject's UTF-8, the start time.
   * @throws {SessionTooLargeError} When it does not.
   */
  fits(bodyBytes: number, headerBytes: number): void {
    this.settings.fits(this, bodyBytes, headerBytes);
  }

  /** The subjects' lists of signed-in sessions, when the revocation list keeps them. */
  get list(): SessionList | undefined {
    return this.settings.list;
  }

  /** The sealed cookie is opened when the handler first touches the session (at once). */
  openWhenTouched(): void {
    this.#lazy = this.value !== undefined;
  }

  /**
   * Opens the sealed cookie now, waiting for the cipher if it must.
   *
   * @returns The record, or undefined when there is none or it was refused.
   */
  async openNow(): Promise<OpenedRecord | undefined> {
    if (this.value === undefined) return undefined;
    try {
      this.#accept(await this.sealer.open(this.value, this.target.name, this.#now()));
    } catch (error) {
      this.refuse(error);
    }
    return this.#record;
  }

  /**
   * Takes the record a step found (a foreign session, or the data a store loaded for it).
   *
   * @param record The record.
   * @param stored The stored version its save must still find, with a store.
   */
  loaded(record: OpenedRecord, stored?: StoredSession): void {
    this.#record = record;
    this.#stored = stored;
  }

  /**
   * Records why the request's cookie was refused: the session is empty.
   *
   * @param error Why: an {@linkcode InvalidSessionError}, anything else counts as malformed.
   * @param keep Leave the cookie in the browser even if the library wrote it (another instance,
   *   configured otherwise, may open it). One it cannot show it wrote is kept anyway.
   * @returns Nothing, so that a caller can `return visit.refuse(…)` as "no record".
   */
  refuse(error: unknown, keep = false): undefined {
    this.#record = undefined;
    this.#invalid = true;
    const reason = error instanceof InvalidSessionError ? error.reason : "malformed";
    this.#pending = reason;
    // Garbage, a forgery or another key may be another app's cookie of the same name, or one
    // another instance of the fleet can open: only a write replaces it.
    this.#keepCookie = keep || (reason !== "expired" && reason !== "revoked");
    return undefined;
  }

  /**
   * Failing open with the store down: the session whose data could not be loaded. The cookie is
   * good (it opened, and may well be fine once the store is back), so it is kept as it is,
   * whatever the handler changes; only `destroy()` (or `clear()`) deletes it.
   *
   * @param record The record the cookie opened to.
   */
  unloaded(record: OpenedRecord): void {
    this.#record = undefined;
    this.#unloaded = record;
  }

  /** The record opened now (before the handler), if any. */
  get record(): OpenedRecord | undefined {
    return this.#record;
  }

  /** The record whose data the store could not load, failing open. */
  get unloadedRecord(): OpenedRecord | undefined {
    return this.#unloaded;
  }

  /** The stored version the session was loaded with, with a store. */
  get stored(): StoredSession | undefined {
    return this.#stored;
  }

  /** The request carried a refused cookie that the response should delete. */
  get deletesRefused(): boolean {
    return this.#invalid && !this.#keepCookie;
  }

  #now(): number {
    return this.settings.now() / 1000;
  }

  #openedOrRefused(open: () => OpenedRecord): void {
    try {
      this.#accept(open());
    } catch (error) {
      this.refuse(error);
    }
  }

  /** Takes an opened record, if the configured lifetimes still allow it. */
  #accept(record: OpenedRecord): void {
    if (outlived(record, this.#now(), this.settings.lifetimes)) {
      // A lifetime shortened in the configuration applies to sessions already issued; the
      // cookie itself is kept, since an instance still on the longer lifetime may serve it.
      this.refuse(new InvalidSessionError("expired"), true);
      return;
    }
    // Opened with a next secret: not re-sealed back to the current one, or instances in two
    // phases of a rotation would rewrite each other's cookies on every read.
    this.#record = record.keyIndex >= this.settings.sealingSecrets
      ? { ...record, keyIndex: 0 }
      : record;
  }

  /** Tells the hook why the cookie was refused, once. */
  #report(): void {
    if (this.#pending === undefined) return;
    const reason = this.#pending;
    this.#pending = undefined;
    try {
      this.settings.onInvalid?.(reason, this.c);
    } catch (hookError) {
      console.error(`session: onInvalid hook failed: ${errorSummary(hookError)}`);
    }
  }
}
