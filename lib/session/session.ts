/**
 * The session a handler works with: a typed, synchronous view over the sealed cookie, opened
 * lazily on first use, that knows at the end of the request whether anything must be written.
 * Pure: no Hono types.
 *
 * @module
 */

import { hex } from "./bytes.ts";
import { encodeBody } from "./body.ts";
import {
  MAX_SEALED_TIME,
  type OpenedRecord,
  SESSION_ID_LENGTH,
  type SessionRecord,
} from "./seal.ts";

/** Session data: a JSON object. */
export type SessionData = Record<string, unknown>;

/** Timing settings of a session, in seconds. */
export interface SessionTiming {
  /** Absolute lifetime from issue. */
  maxAge: number;
  /** Idle timeout; undefined for none. */
  idleTimeout: number | undefined;
  /** Fraction of the idle window that must pass before the deadline is pushed back. */
  idleRefreshAfter: number;
  /**
   * Whether a new session's cookie is persistent (`Max-Age`) rather than a browser-session
   * cookie, until a handler chooses with {@linkcode Session.persistent}.
   * @default {true}
   */
  persistent?: boolean;
}

/** What the end of a request must do with the cookie. */
export type SessionDecision =
  | { action: "none" }
  | { action: "delete"; record?: undefined }
  | {
    action: "write";
    record: SessionRecord;
    body: string;
    /** The data or flash differ from what was loaded (always true for a new session). */
    dataChanged: boolean;
    /** The cookie itself must be re-sealed: new id, older key, or idle deadline to move. */
    cookieDue: boolean;
  };

/** Opens the request's cookie, once; undefined when there is none or it is invalid. */
export type SessionLoader = () => OpenedRecord | undefined;

/** Internal: decides what to write. Not part of the public API. */
export const DECIDE: unique symbol = Symbol("decide");
/** Internal: whether the session was used at all. Not part of the public API. */
export const TOUCHED: unique symbol = Symbol("touched");
/** Internal: the record as loaded, for server-side layers. Not part of the public API. */
export const LOADED: unique symbol = Symbol("loaded");

/**
 * Seconds by which instances' clocks may differ: an idle deadline that far beyond the current
 * window is not taken for one sealed under a longer timeout.
 */
const CLOCK_SKEW = 60;

function newId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(SESSION_ID_LENGTH));
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
 * const session = new Session<{ visits: number }>(() => undefined, {
 *   maxAge: 3600,
 *   idleTimeout: undefined,
 *   idleRefreshAfter: 0.5,
 * }, () => Date.now());
 * session.set("visits", (session.get("visits") ?? 0) + 1);
 * assert.equal(session.get("visits"), 1);
 * ```
 */
export class Session<Data extends SessionData = SessionData> {
  readonly #load: SessionLoader;
  readonly #timing: SessionTiming;
  readonly #clock: () => number;
  #loaded = false;
  #opened: OpenedRecord | undefined;
  #data: SessionData = {};
  #flash: SessionData = {};
  #id: Uint8Array | undefined;
  #issuedAt = 0;
  #expiresAt = 0;
  #destroyed = false;
  #renewed = false;
  /** The handler's choice of persistence; undefined until it makes one. */
  #persistent: boolean | undefined;

  /**
   * Internal: the middleware creates one per request.
   *
   * @param load Opens the request's cookie; called at most once, on first use.
   * @param timing Lifetime settings.
   * @param clock Current time in milliseconds.
   */
  constructor(load: SessionLoader, timing: SessionTiming, clock: () => number) {
    this.#load = load;
    this.#timing = timing;
    this.#clock = clock;
  }

  #now(): number {
    return Math.floor(this.#clock() / 1000);
  }

  #ensure(): void {
    if (this.#loaded) return;
    this.#loaded = true;
    const opened = this.#load();
    if (opened) {
      this.#opened = opened;
      this.#id = opened.id;
      this.#issuedAt = opened.issuedAt;
      this.#expiresAt = opened.expiresAt;
      this.#data = opened.data;
      this.#flash = opened.flash ?? {};
    }
  }

  #start(): void {
    const now = this.#now();
    this.#id = newId();
    this.#issuedAt = now;
    // A lifetime past what the cookie can hold ends at the last time it can: never wraps round.
    this.#expiresAt = Math.min(now + this.#timing.maxAge, MAX_SEALED_TIME);
  }

  /**
   * Reads a value. Objects are returned as stored, so changing one in place is saved too.
   *
   * @param key The key.
   * @returns The value, or undefined.
   */
  get<K extends keyof Data & string>(key: K): Data[K] | undefined {
    this.#ensure();
    return Object.hasOwn(this.#data, key) ? this.#data[key] as Data[K] : undefined;
  }

  /**
   * Stores a value. It must be JSON-serializable.
   *
   * @param key The key.
   * @param value The value; `undefined` deletes the key.
   */
  set<K extends keyof Data & string>(key: K, value: Data[K]): void {
    this.#ensure();
    if (value === undefined) delete this.#data[key];
    else if (key === "__proto__") {
      // Plain assignment would replace the prototype on runtimes with the __proto__ setter.
      Object.defineProperty(this.#data, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else this.#data[key] = value;
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
    this.#ensure();
    const had = Object.hasOwn(this.#data, key);
    delete this.#data[key];
    return had;
  }

  /** Removes every key (flash values too). The cookie is deleted at the end of the request. */
  clear(): void {
    this.#ensure();
    this.#data = {};
    this.#flash = {};
  }

  /** A shallow copy of the data. */
  get data(): Readonly<Partial<Data>> {
    this.#ensure();
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
   * const timing = { maxAge: 3600, idleTimeout: undefined, idleRefreshAfter: 0.5 };
   * const session = new Session(() => undefined, { ...timing, persistent: false }, Date.now);
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
    if (typeof value !== "boolean") {
      throw new TypeError(
        `Cannot set session.persistent: expected true or false, received ${
          typeof value === "string" ? JSON.stringify(value) : String(value)
        }`,
      );
    }
    this.#ensure();
    this.#persistent = value;
  }

  /**
   * Ends the session: the data is dropped and every session cookie is deleted at the end of
   * the request. Storing anything afterwards starts a new session with a new id (and the
   * default persistence).
   */
  destroy(): void {
    this.#ensure();
    this.#destroyed = true;
    this.#data = {};
    this.#flash = {};
    this.#id = undefined;
    this.#persistent = undefined;
  }

  /**
   * Keeps the data under a new session id and issue time (and a new absolute lifetime). Call it
   * when privileges change, at login above all, so that an id planted before is worthless.
   */
  regenerate(): void {
    this.#ensure();
    this.#start();
    this.#renewed = true;
  }

  /**
   * Stores a value for a later request, to be read once with {@linkcode consumeFlash}.
   *
   * @param key The key.
   * @param value A JSON-serializable value.
   */
  flash(key: string, value: unknown): void {
    this.#ensure();
    this.#flash[key] = value;
  }

  /**
   * Reads a flash value and removes it.
   *
   * @param key The key.
   * @returns The value, or undefined.
   */
  consumeFlash<T = unknown>(key: string): T | undefined {
    this.#ensure();
    if (!Object.hasOwn(this.#flash, key)) return undefined;
    const value = this.#flash[key] as T;
    delete this.#flash[key];
    return value;
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
    const empty = Object.keys(this.#data).length === 0 && Object.keys(this.#flash).length === 0;
    if (empty) {
      // Nothing to keep: delete what the browser holds (a cleared, destroyed or junk cookie).
      return this.#opened || this.#destroyed || invalidCookie
        ? { action: "delete" }
        : { action: "none" };
    }
    const body = encodeBody(this.#data, this.#flash);
    const now = this.#now();
    const { idleTimeout, idleRefreshAfter } = this.#timing;
    const opened = this.#destroyed ? undefined : this.#opened;
    const dataChanged = !opened || body !== opened.body;
    const persistent = this.persistent;
    let cookieDue = !opened || this.#renewed || opened.keyIndex > 0 ||
      persistent !== opened.persistent;
    if (!cookieDue && opened) {
      if (idleTimeout === undefined) {
        // The idle timeout was turned off: drop a deadline sealed under the earlier setting.
        cookieDue = opened.idleExpiresAt !== 0;
      } else if (
        opened.idleExpiresAt === 0 || opened.idleExpiresAt > now + idleTimeout + CLOCK_SKEW
      ) {
        // Sealed with no idle deadline, or a longer one, before this timeout was configured:
        // when it was last used is unknown, so this use starts its idle clock (re-sealed with
        // the deadline) rather than letting it run on. Nothing to gain when the absolute expiry
        // comes first anyway.
        cookieDue = now + idleTimeout < opened.expiresAt;
      }
    }
    if (!cookieDue && opened && idleTimeout !== undefined) {
      const deadline = opened.idleExpiresAt || opened.expiresAt;
      // Due once enough of the window has passed, unless the deadline is already at the
      // absolute expiry (then it cannot move, and re-writing would only cost bytes).
      cookieDue = deadline - now < idleTimeout * (1 - idleRefreshAfter) &&
        Math.min(now + idleTimeout, opened.expiresAt) > deadline;
    }
    if (!dataChanged && !cookieDue) return { action: "none" };
    if (!this.#id) this.#start();
    return {
      action: "write",
      body,
      dataChanged,
      cookieDue,
      record: {
        id: this.#id!,
        issuedAt: this.#issuedAt,
        expiresAt: this.#expiresAt,
        idleExpiresAt: idleTimeout === undefined ? 0 : Math.min(now + idleTimeout, this.#expiresAt),
        data: this.#data,
        flash: this.#flash,
        persistent,
      },
    };
  }
}
