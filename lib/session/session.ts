/**
 * The session a handler works with: a typed, synchronous view over the sealed cookie, opened
 * lazily on first use, that knows at the end of the request whether anything must be written.
 * Pure: no Hono types.
 *
 * @module
 */

import { hex, utf8Length } from "../common/bytes.ts";
import { SessionConfigError, SessionError } from "../common/errors.ts";
import { assertJsonValue, stringBound } from "./json_value.ts";
import {
  idleDeadline,
  idleRefreshDue,
  issue,
  lifetimeOf,
  type Lifetimes,
  MAX_SEALED_TIME,
  signOutCutoff,
} from "../sealing/lifetime.ts";
import {
  encodeBody,
  HANDLE_LENGTH,
  MAX_SUBJECT_BYTES,
  type OpenedRecord,
  SESSION_ID_LENGTH,
  type SessionRecord,
  STARTED_AT_LENGTH,
} from "../sealing/sealer.ts";
import type { SignedInSession } from "../server_side/contracts.ts";

/** Session data: a JSON object. */
export type SessionData = Record<string, unknown>;

/** The settings of a session: its lifetimes, in seconds, and what the middleware offers it. */
export interface SessionTiming extends Lifetimes {
  /**
   * Whether a new session's cookie is persistent (`Max-Age`) rather than a browser-session
   * cookie, until a handler chooses with {@linkcode Session.persistent}.
   * @default {true}
   */
  persistent?: boolean;
  /**
   * Whether a revocation list that keeps per-subject cut-offs is configured, so that
   * {@linkcode Session.signOutEverywhere} can work.
   * @default {false}
   */
  subjectRevocation?: boolean;
  /**
   * Whether the revocation list keeps each subject's list of signed-in sessions, so that a
   * session with a subject gets a handle in it, and {@linkcode Session.sessions},
   * {@linkcode Session.signOut} and {@linkcode Session.signOutOthers} can work.
   * @default {false}
   */
  sessionList?: boolean;
}

/** A subject's list of signed-in sessions, as a session reaches it (outages decided). */
export interface SessionList {
  /** The subject's live sessions, newest first. */
  listSessions(subject: string): Promise<SignedInSession[]>;
  /** Ends one session of the subject by its handle; false when it has no such session. */
  endSession(subject: string, id: string): Promise<boolean>;
  /** Refuses every session of the subject started up to `before`. */
  revokeSubject(subject: string, before: Date): Promise<void>;
}

/** One of the subject's signed-in sessions, as {@linkcode Session.sessions} lists them. */
export interface SignedInSessionInfo {
  /** Its handle: what {@linkcode Session.signOut} takes. Not its session id. */
  id: string;
  /** True for the session of this request. */
  current: boolean;
  /** What the app said of it at login (`setSubject(subject, { label })`), if anything. */
  label: string | undefined;
  /** When it signed in. */
  issuedAt: Date;
  /** When it was last used; coarse, refreshed at most once per interval. */
  lastSeenAt: Date;
}

/** Internal: what a session asks of the request it belongs to (the middleware's visit). */
export interface SessionSource {
  /**
   * Opens the request's cookie: called at most once, on first use; undefined when there is
   * none or it is invalid.
   */
  open(): OpenedRecord | undefined;
  /**
   * Checks that a session body of this many UTF-8 bytes, with this many bytes of header beyond
   * the fixed fields (the subject, the start time), still fits where the session is kept;
   * called on every change.
   *
   * @throws {SessionTooLargeError} When it does not.
   */
  fits(bodyBytes: number, headerBytes: number): void;
  /** The subject's list of signed-in sessions, when the revocation list keeps one. */
  readonly list?: SessionList | undefined;
}

/** Ending every session of a subject, asked for by {@linkcode Session.signOutEverywhere}. */
export interface SignOut {
  /** The subject. */
  subject: string;
  /** Sessions of it started up to this instant end: Unix time in whole milliseconds. */
  before: number;
}

/**
 * What the end of a request must do with the cookie, and whom it signs out everywhere: the
 * sign-outs hold whatever happens to the cookie.
 */
export type SessionDecision =
  | { action: "none"; signOuts?: undefined }
  | { action: "delete"; record?: undefined; signOuts: readonly SignOut[] | undefined }
  | {
    action: "write";
    record: SessionRecord;
    body: string;
    /** The data or flash differ from what was loaded (always true for a new session). */
    dataChanged: boolean;
    /** The cookie itself must be re-sealed: new id, older key, or idle deadline to move. */
    cookieDue: boolean;
    signOuts: readonly SignOut[] | undefined;
    /**
     * The session is to be recorded in its subject's list (it was issued or regenerated, or
     * given a label or a new lifetime), with this label (undefined: keep the one recorded).
     */
    listed: { label: string | undefined } | undefined;
  };

/** Internal: decides what to write. Not part of the public API. */
export const DECIDE: unique symbol = Symbol("decide");
/** Internal: whether the session was used at all. Not part of the public API. */
export const TOUCHED: unique symbol = Symbol("touched");
/** Internal: the record as loaded, for server-side layers. Not part of the public API. */
export const LOADED: unique symbol = Symbol("loaded");
/** Internal: the response is committed; later changes are refused. Not part of the public API. */
export const COMMITTED: unique symbol = Symbol("committed");

/** A flash message with its category, as {@linkcode Session.consumeFlashes} lists them. */
export interface FlashMessage<T = unknown> {
  /** The category it was flashed under. */
  category: string;
  /** The message. */
  message: T;
}

/** Most characters in a session's label, in its subject's list of sessions. */
export const MAX_LABEL_LENGTH = 200;

/** A handle as the list and {@linkcode Session.signOut} spell it: 16 hex digits. */
const HANDLE_TEXT = /^[0-9a-f]{16}$/;

function newId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(SESSION_ID_LENGTH));
}

function newHandle(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(HANDLE_LENGTH));
}

/**
 * A session. Get it in a handler with `c.get("session")`. Every method is synchronous; the
 * cookie is opened the first time one is called, so a handler that never touches the session
 * costs no cryptography.
 *
 * @typeParam Data The shape of the session data.
 *
 * @example Counting visits
 * ```ts
 * import assert from "node:assert/strict";
 * import { Session } from "./session.ts";
 *
 * // What the middleware hands a session: here, a request without a session cookie.
 * const noCookie = { open: () => undefined, fits() {} };
 *
 * const session = new Session<{ visits: number }>(noCookie, {
 *   maxAge: 3600,
 *   idleTimeout: undefined,
 *   idleRefreshAfter: 0.5,
 * }, () => Date.now());
 * session.set("visits", (session.get("visits") ?? 0) + 1);
 * assert.equal(session.get("visits"), 1);
 * ```
 */
export class Session<Data extends SessionData = SessionData> {
  readonly #source: SessionSource;
  readonly #timing: SessionTiming;
  readonly #clock: () => number;
  #loaded = false;
  #opened: OpenedRecord | undefined;
  #data: SessionData = {};
  /** Pending flash messages by category, oldest first; categories in the order first flashed. */
  #flash: Record<string, unknown[]> = {};
  #committed = false;
  /**
   * The data or flash may differ from what was opened: a change was made, or a stored object
   * was handed out (it may be changed in place). Until then the opened body still holds.
   */
  #dirty = false;
  /**
   * An upper bound of the session body's UTF-8 bytes, raised by each change: while it fits,
   * a change needs no measuring; past the limit, the body is measured exactly.
   */
  #bound = 2;
  #id: Uint8Array | undefined;
  #issuedAt = 0;
  /** When the session began (its first issue or latest login); kept by `regenerate()`. */
  #startedAt = 0;
  #expiresAt = 0;
  #destroyed = false;
  #renewed = false;
  /** The handler's choice of persistence; undefined until it makes one. */
  #persistent: boolean | undefined;
  #subject: string | undefined;
  /** The subjects signed out everywhere by this request. */
  #signOuts: SignOut[] | undefined;
  /** Cut-offs this request set (Unix ms): a session issued afterwards is issued after them. */
  #issueAfter: number[] | undefined;
  /** The session's handle in its subject's list of sessions, if it has one. */
  #handle: Uint8Array | undefined;
  /** To be recorded in the subject's list at the end of the request. */
  #listed = false;
  /** The label to record with it; undefined keeps the one recorded. */
  #label: string | undefined;

  /**
   * Internal: the middleware creates one per request.
   *
   * @param source Opens the request's cookie, and checks each change still fits.
   * @param timing Lifetime settings.
   * @param clock Current time in milliseconds.
   */
  constructor(source: SessionSource, timing: SessionTiming, clock: () => number) {
    this.#source = source;
    this.#timing = timing;
    this.#clock = clock;
  }

  #now(): number {
    return Math.floor(this.#clock() / 1000);
  }

  #ensure(): void {
    if (this.#loaded) return;
    this.#loaded = true;
    const opened = this.#source.open();
    if (opened) {
      this.#opened = opened;
      this.#id = opened.id;
      this.#issuedAt = opened.issuedAt;
      this.#startedAt = opened.startedAt;
      this.#expiresAt = opened.expiresAt;
      this.#data = opened.data;
      this.#flash = flashQueues(opened.flash);
      this.#subject = opened.subject;
      this.#handle = opened.handle;
      // Every UTF-16 unit is at most three bytes of UTF-8.
      this.#bound = 3 * opened.body.length;
    }
  }

  /** Refuses a change once the response is committed: it could no longer be saved. */
  #change(): void {
    if (this.#committed) {
      throw new SessionError(
        "ERR_SESSION_COMMITTED",
        "Cannot change the session: the response was already committed, so the change would be lost; change it in the handler, or in middleware registered after session()",
      );
    }
    this.#ensure();
    this.#dirty = true;
  }

  /** A stored value given to the handler: an object may be changed in place from then on. */
  #handOut(value: unknown): unknown {
    if (typeof value === "object" && value !== null) this.#dirty = true;
    return value;
  }

  /**
   * Issues a new id, with a new issue time and absolute lifetime.
   *
   * @param carry Keep when the session started (a `regenerate()` of a live session), so that
   *   cut-offs still reach it; otherwise it starts now.
   */
  #start(carry = false): void {
    // A session started after a sign-out in this request is not itself signed out.
    const lifetime = lifetimeOf(this.persistent, this.#timing);
    const times = issue(this.#clock(), lifetime, this.#issueAfter);
    this.#id = newId();
    this.#issuedAt = times.issuedAt;
    if (!carry) this.#startedAt = times.issuedAt;
    this.#expiresAt = times.expiresAt;
    if (this.#handle) this.#listed = true;
  }

  /** Header bytes beyond the fixed fields: the subject, and the start time when sealed. */
  #headerBytes(): number {
    const subject = this.#subject === undefined ? 0 : utf8Length(this.#subject);
    if (this.#handle) return subject + STARTED_AT_LENGTH + HANDLE_LENGTH;
    return this.#startedAt < this.#issuedAt ? subject + STARTED_AT_LENGTH : subject;
  }

  /**
   * Checks the session still fits where it is kept after a change, and undoes the change if
   * not, so that the handler can answer and the stored session stays as it was.
   */
  #checkFits(grew: number, undo: () => void): void {
    // Flash values add the brackets of `[data, flash]`.
    this.#bound += grew + 4;
    const source = this.#source;
    const header = this.#headerBytes();
    try {
      source.fits(this.#bound, header);
      return;
    } catch {
      // The bound is too rough to tell: measure the body itself.
    }
    this.#bound = utf8Length(encodeBody(this.#data, this.#flash));
    try {
      source.fits(this.#bound, header);
    } catch (error) {
      undo();
      throw error;
    }
  }

  /**
   * Reads a value. Objects are returned as stored, so changing one in place is saved too.
   *
   * @param key The key.
   * @returns The value, or undefined.
   */
  get<K extends keyof Data & string>(key: K): Data[K] | undefined {
    this.#ensure();
    if (!Object.hasOwn(this.#data, key)) return undefined;
    return this.#handOut(this.#data[key]) as Data[K];
  }

  /**
   * Stores a value: plain data that JSON carries unchanged (strings, finite numbers, booleans,
   * null, and arrays and plain objects of them).
   *
   * @param key The key.
   * @param value The value; `undefined` deletes the key.
   * @throws {TypeError} When the value is not such data (a `Date`, a `Map`, bytes, a `bigint`,
   * `NaN`, a cycle…), naming where in it; nothing is stored.
   * @throws {SessionTooLargeError} When the session would no longer fit in its cookies (or its
   * store); nothing is stored, and the response keeps the session the browser has.
   * @throws {SessionError} With code `ERR_SESSION_COMMITTED` after the response was committed.
   */
  set<K extends keyof Data & string>(key: K, value: Data[K]): void {
    this.#change();
    if (value === undefined) {
      delete this.#data[key];
      return;
    }
    const grew = assertJsonValue(value, key) + stringBound(key) + 2;
    const had = Object.hasOwn(this.#data, key);
    const before = this.#data[key];
    // Plain assignment would replace the prototype on runtimes with the __proto__ setter.
    if (key === "__proto__") defineOwn(this.#data, key, value);
    else this.#data[key] = value;
    this.#checkFits(grew, () => had ? defineOwn(this.#data, key, before) : delete this.#data[key]);
  }

  /**
   * Tells whether a key is set.
   *
   * @param key The key.
   * @returns True when set.
   */
  has(key: keyof Data & string): boolean {
    this.#ensure();
    return Object.hasOwn(this.#data, key);
  }

  /**
   * Removes a key.
   *
   * @param key The key.
   * @returns True when it was set.
   */
  delete(key: keyof Data & string): boolean {
    this.#change();
    const had = Object.hasOwn(this.#data, key);
    delete this.#data[key];
    return had;
  }

  /**
   * Removes every key, the flash messages and the subject, and ends the session as
   * {@linkcode destroy} does (Flask's name for it): the cookie is deleted at the end of the
   * request, and anything stored afterwards starts a new session with a new id.
   */
  clear(): void {
    this.destroy();
  }

  /** A shallow copy of the data. */
  get data(): Readonly<Partial<Data>> {
    this.#ensure();
    for (const key in this.#data) this.#handOut(this.#data[key]);
    return { ...this.#data } as Partial<Data>;
  }

  /** True when the request carried no valid session. */
  get isNew(): boolean {
    this.#ensure();
    return this.#opened === undefined || this.#destroyed;
  }

  /** The session id, 32 hex digits; a new session gets one when first asked. */
  get id(): string {
    this.#ensure();
    if (!this.#id) this.#start();
    return hex(this.#id!);
  }

  /** When this session id was issued (undefined for a session not yet saved). */
  get issuedAt(): Date | undefined {
    this.#ensure();
    return this.#id ? new Date(this.#issuedAt * 1000) : undefined;
  }

  /** End of the absolute lifetime (undefined for a session not yet saved). */
  get expiresAt(): Date | undefined {
    this.#ensure();
    return this.#id ? new Date(this.#expiresAt * 1000) : undefined;
  }

  /**
   * Whether the cookie is persistent: `true` writes it with `Max-Age` (it outlives the browser
   * session, up to the sealed expiry), `false` without (the browser drops it when it closes —
   * "remember me" unticked). The choice is sealed in the cookie, so later writes keep it; the
   * sealed absolute and idle expiry hold either way. A session opened from a cookie reports the
   * choice sealed in it; a new one the `persistent` option of `session()`. Setting a different
   * value re-writes the cookie even if the data did not change.
   *
   * @throws {TypeError} When set to anything but `true` or `false`.
   *
   * @example A "remember me" checkbox
   * ```ts
   * import assert from "node:assert/strict";
   * import { Session } from "./session.ts";
   *
   * const noCookie = { open: () => undefined, fits() {} }; // a request without a session cookie
   *
   * const timing = { maxAge: 3600, idleTimeout: undefined, idleRefreshAfter: 0.5 };
   * const session = new Session(noCookie, { ...timing, persistent: false }, Date.now);
   * assert.equal(session.persistent, false);
   * session.persistent = true; // the visitor ticked "Remember me"
   * assert.equal(session.persistent, true);
   * ```
   */
  get persistent(): boolean {
    this.#ensure();
    if (this.#persistent !== undefined) return this.#persistent;
    const opened = this.#destroyed ? undefined : this.#opened;
    return opened ? opened.persistent : this.#timing.persistent ?? true;
  }

  set persistent(value: boolean) {
    if (this.#committed) this.#change();
    if (typeof value !== "boolean") {
      throw new TypeError(
        `Cannot set session.persistent: expected true or false, received ${
          typeof value === "string" ? JSON.stringify(value) : String(value)
        }`,
      );
    }
    this.#ensure();
    if (value !== this.persistent && this.#id) {
      // A remembered session may live longer (persistentMaxAge): its lifetime follows the choice.
      const lifetime = lifetimeOf(value, this.#timing);
      this.#expiresAt = Math.min(Math.floor(this.#issuedAt) + lifetime, MAX_SEALED_TIME);
      if (this.#handle) this.#listed = true;
    }
    this.#persistent = value;
  }

  /**
   * Ends the session: the data is dropped and every session cookie is deleted at the end of
   * the request. Storing anything afterwards starts a new session with a new id (and the
   * default persistence).
   */
  destroy(): void {
    this.#change();
    this.#destroyed = true;
    this.#data = {};
    this.#flash = {};
    this.#id = undefined;
    this.#persistent = undefined;
    this.#subject = undefined;
    this.#handle = undefined;
    this.#listed = false;
    this.#label = undefined;
  }

  /**
   * Whom the session belongs to: a user id, set at login, sealed inside the cookie (never
   * readable in it), kept by every later write, rotation and {@linkcode regenerate}, cleared by
   * {@linkcode destroy}. `undefined` for an anonymous session. Setting a different subject
   * regenerates the session id (see {@linkcode setSubject} to choose otherwise).
   *
   * @throws {TypeError} When set to anything but a non-empty string of at most 200 bytes of
   * UTF-8, or undefined; or to the text `"undefined"` or `"null"`, which is what `String()`
   * makes of a missing form field.
   *
   * @example Logging in, as user 42
   * ```ts
   * import assert from "node:assert/strict";
   * import { Session } from "./session.ts";
   *
   * const noCookie = { open: () => undefined, fits() {} }; // a request without a session cookie
   *
   * const session = new Session(noCookie, { maxAge: 3600, idleTimeout: undefined, idleRefreshAfter: 0.5 }, Date.now);
   * const before = session.id;
   * session.subject = "user-42";
   * assert.equal(session.subject, "user-42");
   * assert.notEqual(session.id, before); // a new id at login: a planted one is worthless
   * ```
   */
  get subject(): string | undefined {
    this.#ensure();
    return this.#subject;
  }

  set subject(subject: string | undefined) {
    this.setSubject(subject);
  }

  /**
   * Sets whom the session belongs to, as {@linkcode subject} does.
   *
   * @param subject The subject (a user id), or undefined for none.
   * @param options `regenerate: false` keeps the session id (for a change that is no login).
   *   `label`: what the subject's list of signed-in sessions shows of this one, e.g. "Firefox on
   *   Linux" (kept server-side, in the revocation list, never in the cookie; at most
   *   {@linkcode MAX_LABEL_LENGTH} characters); given for the same subject, it only updates the
   *   label.
   * @default {{ regenerate: true }}
   * @throws {TypeError} When the subject is not a non-empty string of at most 200 bytes of UTF-8,
   * or is the text `"undefined"` or `"null"`; or when the label is not a string of at most
   * {@linkcode MAX_LABEL_LENGTH} characters.
   * @throws {SessionError} With code `ERR_SESSION_COMMITTED` after the response was committed.
   */
  setSubject(
    subject: string | undefined,
    options: { regenerate?: boolean; label?: string } = {},
  ): void {
    this.#change();
    const { label } = options;
    if (label !== undefined && (typeof label !== "string" || label.length > MAX_LABEL_LENGTH)) {
      throw new TypeError(
        `Cannot set the session's label: expected a string of at most ${MAX_LABEL_LENGTH} characters, received ${
          typeof label === "string" ? `${label.length} characters` : typeof label
        }`,
      );
    }
    if (
      subject !== undefined &&
      (typeof subject !== "string" || subject === "" || utf8Length(subject) > MAX_SUBJECT_BYTES)
    ) {
      throw new TypeError(
        `Cannot set session.subject: expected a non-empty string of at most ${MAX_SUBJECT_BYTES} bytes (a user id) or undefined, received ${
          typeof subject === "string" ? `${utf8Length(subject)} bytes` : typeof subject
        }`,
      );
    }
    if (subject === "undefined" || subject === "null") {
      // What String(form.user) makes of a missing field: every visitor would share the subject,
      // and one sign-out everywhere would end them all.
      throw new TypeError(
        `Cannot set session.subject: received the text "${subject}", which is what String() makes of a missing value; pass the user's id`,
      );
    }
    if (subject === this.#subject) {
      if (label !== undefined && subject !== undefined && this.#timing.sessionList) {
        // Signed in before the list was kept: the label gives it its place now.
        this.#handle ??= newHandle();
        [this.#label, this.#listed] = [label, true];
      }
      return;
    }
    const [before, handle] = [this.#subject, this.#handle];
    this.#subject = subject;
    // A new subject is a new entry in the new subject's list.
    this.#handle = subject !== undefined && this.#timing.sessionList ? newHandle() : undefined;
    this.#checkFits(0, () => [this.#subject, this.#handle] = [before, handle]);
    this.#label = label;
    this.#listed = this.#handle !== undefined;
    // A login: a new id, and the session starts now.
    if (options.regenerate !== false) this.#renew(false);
  }

  /**
   * Ends every session of this session's subject, on every instance (within the revocation
   * list's cache time), this one included: "sign out everywhere", after a password change or
   * a lost device. Sessions of the subject started from now on are not affected, nor is one
   * this request goes on to write (`signOutEverywhere()` then `subject = sameUser` keeps this
   * device signed in with a new id). Done when the response is committed, through the
   * revocation list, whatever the handler does afterwards; this session is destroyed.
   *
   * @throws {SessionConfigError} When no revocation list with per-subject cut-offs is
   * configured (`revocation: kvRevocation(kv)` or `redisRevocation(client)`).
   * @throws {TypeError} When the session has no subject.
   * @throws {SessionError} With code `ERR_SESSION_COMMITTED` after the response was committed.
   */
  signOutEverywhere(): void {
    if (!this.#timing.subjectRevocation) {
      throw new SessionConfigError(
        "revocation",
        "signOutEverywhere() needs a revocation list that every instance shares (kvRevocation(kv) from ./kv, or redisRevocation(client) from ./redis); without one, other sessions cannot be reached",
      );
    }
    this.#change();
    const subject = this.#subject;
    if (subject === undefined) {
      throw new TypeError(
        "Cannot sign out everywhere: the session has no subject; set session.subject when the user logs in",
      );
    }
    const before = signOutCutoff(this.#clock());
    (this.#signOuts ??= []).push({ subject, before });
    (this.#issueAfter ??= []).push(before);
    this.destroy();
  }

  /**
   * The signed-in sessions of this session's subject, as its revocation list keeps them:
   * every device where the user is signed in, this one marked `current`, newest first. One
   * round trip to the list.
   *
   * @returns The sessions.
   * @throws {SessionConfigError} When the revocation list keeps no list of sessions.
   * @throws {TypeError} When the session has no subject.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when the list does not
   * answer and the middleware fails closed (failing open, the list is empty).
   */
  async sessions(): Promise<SignedInSessionInfo[]> {
    const { list, subject } = this.#subjectList("list its sessions");
    const own = this.#handle && hex(this.#handle);
    return (await list.listSessions(subject)).map((entry) => ({
      id: entry.id,
      current: entry.id === own,
      label: entry.label,
      issuedAt: new Date(entry.issuedAt * 1000),
      lastSeenAt: new Date(entry.lastSeenAt * 1000),
    }));
  }

  /**
   * Ends one session of this session's subject, found with {@linkcode sessions}: every copy of
   * its cookie is refused, on every instance within the list's cache time. Ending this very
   * session signs this device out, as {@linkcode destroy} does.
   *
   * @param id The session's handle, as {@linkcode sessions} gives it.
   * @returns False when the subject has no such session (ended already, or another subject's):
   * nothing was ended.
   * @throws {SessionConfigError} When the revocation list keeps no list of sessions.
   * @throws {TypeError} When the session has no subject.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when the list does not
   * answer and the middleware fails closed.
   */
  async signOut(id: string): Promise<boolean> {
    const { list, subject } = this.#subjectList("sign a session out");
    if (typeof id !== "string" || !HANDLE_TEXT.test(id)) return false;
    const ended = await list.endSession(subject, id);
    if (ended && this.#handle && id === hex(this.#handle)) this.destroy();
    return ended;
  }

  /**
   * Ends every other session of this session's subject and keeps this one signed in: every
   * session of the subject started until now is refused, on every instance within the list's
   * cache time, and this one goes on under a new id issued after that cut-off, with its data,
   * label and place in the list. "Sign out all other devices", after a password change too.
   *
   * @throws {SessionConfigError} When the revocation list keeps no list of sessions.
   * @throws {TypeError} When the session has no subject.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when the list does not
   * answer and the middleware fails closed; with code `ERR_SESSION_COMMITTED` after the
   * response was committed.
   */
  async signOutOthers(): Promise<void> {
    const { list, subject } = this.#subjectList("sign the other sessions out");
    this.#change();
    const own = this.#handle && hex(this.#handle);
    if (own && this.#label === undefined) {
      // The cut-off drops this session's entry too: its label is recorded again at the end.
      this.#label = (await list.listSessions(subject)).find((entry) => entry.id === own)?.label;
    }
    const before = signOutCutoff(this.#clock());
    await list.revokeSubject(subject, new Date(before));
    (this.#issueAfter ??= []).push(before);
    this.#handle ??= newHandle();
    // A new start after the cut-off: this session is not itself refused.
    this.#renew(false);
  }

  /** The list and subject that the sessions calls need, or the error that says what is missing. */
  #subjectList(what: string): { list: SessionList; subject: string } {
    const list = this.#source.list;
    if (!list || !this.#timing.sessionList) {
      throw new SessionConfigError(
        "revocation",
        `Cannot ${what}: it needs a revocation list that keeps each subject's sessions (kvRevocation(kv) from ./kv, or redisRevocation(client) from ./redis)`,
      );
    }
    this.#ensure();
    const subject = this.#subject;
    if (subject === undefined) {
      throw new TypeError(
        `Cannot ${what}: the session has no subject; set it at login with session.setSubject(user, { label })`,
      );
    }
    return { list, subject };
  }

  /**
   * Keeps the data under a new session id and issue time (and a new absolute lifetime). Call it
   * when privileges change, at login above all, so that an id planted before is worthless. The
   * session keeps its standing against cut-offs: a session started before a sign-out everywhere
   * is refused after it, however often it was regenerated.
   */
  regenerate(): void {
    this.#change();
    this.#renew(this.#id !== undefined);
  }

  #renew(carry: boolean): void {
    this.#start(carry);
    this.#renewed = true;
  }

  /**
   * Flashes a message for a later request: it waits in the session, under its category, until
   * read once with {@linkcode consumeFlash} or {@linkcode consumeFlashes}. Each call adds one
   * (as Flask's `flash(message, category)`): two flashes of one category are both kept, in
   * order.
   *
   * @param category The category, e.g. `"notice"` or `"error"`.
   * @param message The message: plain data, as for {@linkcode set}.
   * @throws {TypeError} When the message is not plain data.
   * @throws {SessionError} With code `ERR_SESSION_COMMITTED` after the response was committed.
   *
   * @example Two notices, read on the next request
   * ```ts
   * import assert from "node:assert/strict";
   * import { Session } from "./session.ts";
   *
   * const noCookie = { open: () => undefined, fits() {} }; // a request without a session cookie
   *
   * const timing = { maxAge: 3600, idleTimeout: undefined, idleRefreshAfter: 0.5 };
   * const session = new Session(noCookie, timing, Date.now);
   * session.flash("notice", "Saved");
   * session.flash("notice", "Mail sent");
   * session.flash("error", "The printer is out of paper");
   * assert.equal(session.consumeFlash("notice"), "Saved");
   * assert.deepEqual(session.consumeFlashes(), [
   *   { category: "notice", message: "Mail sent" },
   *   { category: "error", message: "The printer is out of paper" },
   * ]);
   * assert.deepEqual(session.consumeFlashes(), []);
   * ```
   */
  flash(category: string, message: unknown): void {
    this.#change();
    const grew = assertJsonValue(message, `flash ${category}`) + stringBound(category) + 4;
    const queue = Object.hasOwn(this.#flash, category) ? this.#flash[category]! : [];
    if (queue.length === 0) defineOwn(this.#flash, category, queue);
    queue.push(message);
    this.#checkFits(grew, () => {
      queue.pop();
      if (queue.length === 0) delete this.#flash[category];
    });
  }

  /**
   * Reads the oldest pending flash message of a category, and removes it.
   *
   * @param category The category.
   * @returns The message, or undefined when none is pending.
   * @throws {SessionError} With code `ERR_SESSION_COMMITTED` after the response was committed.
   */
  consumeFlash<T = unknown>(category: string): T | undefined {
    this.#change();
    if (!Object.hasOwn(this.#flash, category)) return undefined;
    const queue = this.#flash[category]!;
    const message = queue.shift() as T;
    if (queue.length === 0) delete this.#flash[category];
    return message;
  }

  /**
   * Reads every pending flash message, with its category, and removes them (Flask's
   * `get_flashed_messages(with_categories=True)`); or only those of one category.
   *
   * @param category Only this category; every category when left out.
   * @returns The messages: by category, in the order each category was first flashed, and in
   * the order flashed within it.
   * @throws {SessionError} With code `ERR_SESSION_COMMITTED` after the response was committed.
   */
  consumeFlashes<T = unknown>(category?: string): FlashMessage<T>[] {
    this.#change();
    const categories = category === undefined
      ? Object.keys(this.#flash)
      : Object.hasOwn(this.#flash, category)
      ? [category]
      : [];
    const messages: FlashMessage<T>[] = [];
    for (const name of categories) {
      for (const message of this.#flash[name]!) {
        messages.push({ category: name, message: message as T });
      }
      delete this.#flash[name];
    }
    return messages;
  }

  /** Internal: from now on, changes are refused (the response is committed). */
  [COMMITTED](): void {
    this.#committed = true;
  }

  /** Internal: true when a handler used the session. */
  get [TOUCHED](): boolean {
    return this.#loaded;
  }

  /** Internal: the record opened from the request, if any. */
  get [LOADED](): OpenedRecord | undefined {
    return this.#opened;
  }

  /**
   * Internal: what the end of the request must do. A write happens only when the data or flash
   * changed (compared as sealed JSON, so changes inside nested objects count), the session was
   * regenerated, it was opened with an older key, its persistence changed, or the idle deadline
   * is due to move.
   *
   * @param invalidCookie True when the request carried a cookie that did not open.
   */
  [DECIDE](invalidCookie: boolean): SessionDecision {
    if (!this.#loaded) return { action: "none" };
    const empty = Object.keys(this.#data).length === 0 &&
      Object.keys(this.#flash).length === 0 && this.#subject === undefined;
    if (empty) {
      // Nothing to keep: delete what the browser holds (a cleared, destroyed or junk cookie).
      return this.#opened || this.#destroyed || invalidCookie
        ? { action: "delete", signOuts: this.#signOuts }
        : { action: "none" };
    }
    const opened = this.#destroyed ? undefined : this.#opened;
    // Untouched data is not serialised again to be compared: the opened body still holds.
    const body = opened && !this.#dirty ? opened.body : encodeBody(this.#data, this.#flash);
    const now = this.#now();
    const dataChanged = !opened || body !== opened.body;
    const persistent = this.persistent;
    const cookieDue = !opened || this.#renewed || opened.keyIndex > 0 ||
      persistent !== opened.persistent || this.#subject !== opened.subject ||
      idleRefreshDue(opened, now, this.#timing);
    if (!dataChanged && !cookieDue) return { action: "none" };
    if (!this.#id) this.#start();
    return {
      action: "write",
      body,
      dataChanged,
      cookieDue,
      signOuts: this.#signOuts,
      listed: this.#handle && (this.#listed || !opened) ? { label: this.#label } : undefined,
      record: {
        id: this.#id!,
        issuedAt: this.#issuedAt,
        startedAt: this.#startedAt,
        expiresAt: this.#expiresAt,
        idleExpiresAt: idleDeadline(now, this.#timing.idleTimeout, this.#expiresAt),
        data: this.#data,
        flash: this.#flash,
        persistent,
        sealedAt: now,
        subject: this.#subject,
        handle: this.#handle,
      },
    };
  }
}

/**
 * Flash messages as sealed (category → messages) as queues of their own. A value that is not a
 * list was sealed before categories could hold several messages: it is the one message.
 */
function flashQueues(flash: Record<string, unknown> | undefined): Record<string, unknown[]> {
  const queues: Record<string, unknown[]> = {};
  if (!flash) return queues;
  for (const [category, messages] of Object.entries(flash)) {
    defineOwn(queues, category, Array.isArray(messages) ? [...messages] : [messages]);
  }
  return queues;
}

/** Sets an own property, even one named `__proto__`. */
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
