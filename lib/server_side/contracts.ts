/**
 * The contracts between the middleware and optional server-side layers: a revocation list
 * (logout that holds even against copies of the cookie, and optionally each subject's list of
 * signed-in sessions) and a session store (data kept on the server, the cookie holding only the
 * sealed session id). `lib/kv/` implements both on Deno KV;
 * anything else that meets these interfaces works too.
 *
 * @module
 */

/**
 * Refuses sessions that were logged out, or issued before a cut-off.
 *
 * @example A revocation list that never revokes (for tests)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SessionRevocation } from "./contracts.ts";
 *
 * const none: SessionRevocation = {
 *   isRevoked: () => Promise.resolve(false),
 *   revoke: () => Promise.resolve(),
 * };
 * await none.revoke(new Uint8Array(16), 2_000_000_000);
 * assert.equal(await none.isRevoked(new Uint8Array(16), 1_900_000_000), false);
 * ```
 */
export interface SessionRevocation {
  /**
   * Tells whether a session that opened and has not expired was revoked since: its id, or every
   * session started up to a cut-off (all of them, or its subject's).
   *
   * @param id The session id (16 bytes).
   * @param startedAt When the session started, Unix seconds to the millisecond: when it was
   *   first issued, or its subject last set (a login); `regenerate()` keeps it. Cut-offs are
   *   compared with it.
   * @param subject Whom it belongs to, if anyone.
   * @param handle Its handle in its subject's list of sessions, if it has one: refused too when
   *   that session was ended ({@linkcode SessionRevocation.endSession}).
   * @returns True when it must be refused.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when the list cannot be read.
   */
  isRevoked(id: Uint8Array, startedAt: number, subject?: string, handle?: string): Promise<boolean>;
  /**
   * Revokes one session until it would have expired anyway.
   *
   * @param id The session id (16 bytes).
   * @param expiresAt Its absolute expiry, Unix seconds: the record can be dropped after it.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when the list cannot be written.
   */
  revoke(id: Uint8Array, expiresAt: number): Promise<void>;
  /**
   * Refuses every session of one subject started up to `before` (to the millisecond): "sign out
   * everywhere". Sessions of other subjects, and the subject's later ones, are untouched. A
   * later call with an earlier instant does not move it back. Optional: without it,
   * `Session.signOutEverywhere()` throws a `SessionConfigError` when called.
   *
   * @param subject The subject.
   * @param before The cut-off.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when the list cannot be written.
   */
  revokeSubject?(subject: string, before?: Date): Promise<void>;

  /**
   * Records a session in its subject's list of signed-in sessions, or updates its entry: at
   * login, at `regenerate()`, when its lifetime changes. An entry whose `label` is undefined
   * keeps the label recorded before. Beyond the list's bound, the subject's oldest entries are
   * dropped (their sessions go on). Optional, with the four below: a list keeps all five or none.
   *
   * @param subject The subject.
   * @param session The entry; it expires with the session.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when the list cannot be written.
   */
  addSession?(subject: string, session: SignedInSession): Promise<void>;
  /**
   * The subject's live sessions, newest first, in one round trip: not expired, and started
   * after every cut-off that applies to them.
   *
   * @param subject The subject.
   * @returns The entries.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when the list cannot be read.
   */
  listSessions?(subject: string): Promise<SignedInSession[]>;
  /**
   * Notes that a session was used now. Coarse: written at most once per interval per session
   * and process, so most calls cost nothing; an entry that is gone is not brought back.
   *
   * @param subject The subject.
   * @param id The session's handle.
   * @param expiresAt When the session expires, Unix seconds.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when the list cannot be written.
   */
  seenSession?(subject: string, id: string, expiresAt: number): Promise<void>;
  /**
   * Ends one session of a subject: every copy of its cookie is refused on every instance (within
   * the cache time), and its entry leaves the list.
   *
   * @param subject The subject.
   * @param id The session's handle.
   * @returns False when the subject has no such session (ended already, or another subject's).
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when the list cannot be written.
   */
  endSession?(subject: string, id: string): Promise<boolean>;
  /**
   * Removes a session's entry: the session ended otherwise (a logout, which revoked its id).
   *
   * @param subject The subject.
   * @param id The session's handle.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when the list cannot be written.
   */
  removeSession?(subject: string, id: string): Promise<void>;
}

/** One signed-in session of a subject, as its revocation list keeps it. */
export interface SignedInSession {
  /**
   * Its handle: 16 hex digits, sealed in its cookie, the same through `regenerate()`; not the
   * session id, which it does not reveal.
   */
  id: string;
  /** What the app said of it at login, e.g. "Firefox on Linux"; undefined when nothing. */
  label: string | undefined;
  /** When it signed in (the session's start), Unix seconds to the millisecond. */
  issuedAt: number;
  /** When it was last used, Unix seconds to the millisecond, refreshed at most once per interval. */
  lastSeenAt: number;
  /** When it expires at the latest, Unix seconds: its entry expires with it. */
  expiresAt: number;
}

/** Session data as stored server-side. */
export interface StoredSession {
  /** The JSON text: the data object, or `[data, flash]`. */
  body: string;
  /** Opaque version for optimistic concurrency (a Deno KV versionstamp); null when absent. */
  version: string | null;
}

/**
 * Keeps session data on the server, under the session id.
 *
 * @example An in-memory store (a single process only)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SessionStore, StoredSession } from "./contracts.ts";
 *
 * const map = new Map<string, StoredSession>();
 * const key = (id: Uint8Array) => id.join();
 * let n = 0;
 * const memory: SessionStore = {
 *   load: (id) => Promise.resolve(map.get(key(id))),
 *   save: (id, body) => {
 *     const saved = { body, version: String(++n) };
 *     map.set(key(id), saved);
 *     return Promise.resolve(saved);
 *   },
 *   delete: (id) => Promise.resolve(void map.delete(key(id))),
 * };
 * const id = new Uint8Array(16);
 * const saved = await memory.save(id, '{"name":"Ada"}', 2_000_000_000);
 * assert.deepEqual(await memory.load(id), saved);
 * await memory.delete(id);
 * assert.equal(await memory.load(id), undefined);
 * ```
 */
export interface SessionStore {
  /**
   * Reads a session.
   *
   * @param id The session id.
   * @returns The stored session, or undefined when there is none (expired, deleted).
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when the store fails.
   */
  load(id: Uint8Array): Promise<StoredSession | undefined>;
  /**
   * Writes a session, only if it is still at `expected` (the version loaded with it).
   *
   * @param id The session id.
   * @param body The JSON text.
   * @param expiresAt Unix seconds after which the entry may be dropped.
   * @param expected The version this request loaded; undefined for a new session.
   * @returns The stored session with its new version.
   * @throws {SessionTooLargeError} When the body is larger than the store allows.
   * @throws {SessionError} With code `ERR_SESSION_CONFLICT` when another request changed it first.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when the store fails.
   */
  save(
    id: Uint8Array,
    body: string,
    expiresAt: number,
    expected?: StoredSession,
  ): Promise<StoredSession>;
  /**
   * Deletes a session.
   *
   * @param id The session id.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when the store fails.
   */
  delete(id: Uint8Array): Promise<void>;
  /**
   * Throws when a session body of this many UTF-8 bytes is larger than the store accepts.
   * Optional: when given, a change that would outgrow the store throws where it is made
   * (`set()`), so the handler can answer, instead of at the save.
   *
   * @param bodyBytes UTF-8 bytes of the JSON body.
   * @throws {SessionTooLargeError} When it is too large.
   */
  assertFits?(bodyBytes: number): void;
}
