/**
 * Session revocation on Deno KV: a logout that holds even against copies of the cookie, a
 * "log everyone out" cut-off, and each subject's list of signed-in sessions. Deno KV runs
 * embedded (SQLite) locally and globally replicated on Deno Deploy, so this costs no new
 * infrastructure.
 *
 * Keys, under the prefix:
 * - `["id", <id hex>]`: a revoked session, until it expires plus the clock skew.
 * - `["all-before"]`: everyone's cut-off, kept for ever.
 * - `["subject", subject]`: a subject's cut-off, until `maxAge` past it plus the clock skew.
 * - `["sessions", subject, handle]`: a signed-in session's entry (label, start, last use,
 *   expiry), until the session expires plus the clock skew; at most `maxSessions` a subject.
 * - `["seen", subject, handle]`: when a session was last used, written at most once per
 *   `seenIntervalMs`; expires with it, and counts only beside its entry.
 * - `["handle", handle]`: a session ended from its subject's list, until it expires plus the
 *   clock skew.
 *
 * @module
 */

import {
  assertKnownOptions,
  SessionConfigError,
  SessionStoreUnavailableError,
} from "../common/errors.ts";
import type { SessionRevocation, SignedInSession } from "../server_side/contracts.ts";
import { hex } from "../common/bytes.ts";
import { commit } from "./_commit.ts";
import { deadline } from "../server_side/deadline.ts";
import { CLOCK_SKEW, cutOff, MAX_AGE_LIMIT } from "../sealing/lifetime.ts";
import { RevocationCache } from "../server_side/revocation_cache.ts";

/** What `seenSession()` answers when there is nothing to write: one promise for all. */
const NOTHING_TO_WRITE: Promise<void> = Promise.resolve();

/** Options of {@linkcode kvRevocation}. */
export interface KvRevocationOptions {
  /**
   * Key prefix of the revocation records.
   * @default {["sealed-sessions", "revoked"]}
   */
  prefix?: Deno.KvKey;
  /**
   * How long, in milliseconds, an answer from KV is reused in this isolate. This bounds how
   * long a revocation made by another instance can go unnoticed here; revocations made by this
   * isolate apply at once. 0 reads KV on every request.
   * @default {1000}
   */
  cacheMs?: number;
  /**
   * KV read consistency. `strong` reads see every committed revocation (on Deno Deploy they go
   * to the primary region); `eventual` reads the nearest replica, faster but possibly behind by
   * the replication delay.
   * @default {"strong"}
   */
  consistency?: Deno.KvConsistencyLevel;
  /**
   * Most answers kept of each kind: session ids read, subjects' cut-offs read, and the
   * revocations and cut-offs this process made (which reads never push out).
   * @default {10000}
   */
  cacheSize?: number;
  /**
   * The longest session lifetime (`maxAge`, seconds) of the apps that use this list: a
   * subject's cut-off ({@linkcode KvRevocation.revokeSubject}) is kept this long past its
   * instant, when every session it refuses has expired anyway.
   * @default {34560000} (400 days, the longest `maxAge` allowed)
   */
  maxAge?: number;
  /**
   * Longest wait for Deno KV, in milliseconds; past it the check fails with
   * `ERR_SESSION_STORE_UNAVAILABLE` (a 503, or unchecked with `failOpen`), so a KV that hangs
   * never holds requests.
   * @default {1000}
   */
  timeoutMs?: number;
  /**
   * Most entries kept in a subject's list of signed-in sessions: beyond it, the oldest are
   * dropped from the list (their sessions go on).
   * @default {100}
   */
  maxSessions?: number;
  /**
   * How often, in milliseconds, this isolate writes down that a session was used (its
   * `lastSeenAt`); uses in between cost nothing.
   * @default {300000} (5 minutes)
   */
  seenIntervalMs?: number;
  /**
   * Clock in milliseconds, for tests.
   * @default {Date.now}
   */
  now?: () => number;
}

/** A cut-off as stored: Unix seconds, or 0 for none. */
function seconds(value: unknown): number {
  return typeof value === "number" ? value : 0;
}

/** A {@linkcode SessionRevocation} on Deno KV, with the cut-off operation. */
export interface KvRevocation extends SessionRevocation {
  /**
   * Refuses every session started up to `instant` (to the millisecond), everywhere ("log everyone out", after a
   * leaked secret or a breach). A later call with an earlier instant does not move it back.
   *
   * @param instant The cut-off.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when Deno KV fails.
   */
  revokeAllBefore(instant: Date): Promise<void>;
  /**
   * Refuses every session of `subject` started up to `before` (to the millisecond), everywhere:
   * "sign out everywhere". One entry per subject, which expires `maxAge` after the instant.
   *
   * @param subject The subject, as `session.subject` holds it.
   * @param before The cut-off.
   * @default {new Date()}
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when Deno KV fails.
   */
  revokeSubject(subject: string, before?: Date): Promise<void>;
  /**
   * Records a signed-in session in its subject's list, or updates its entry; an undefined
   * `label` keeps the one stored. The entry expires with the session. Beyond `maxSessions`, the
   * subject's oldest entries (by `issuedAt`) are dropped; their sessions go on. A session ended
   * already is not added back.
   *
   * @param subject The subject.
   * @param session The entry. Its label is the app's own short text (at most 200 characters),
   *   kept in Deno KV, never in the cookie.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when Deno KV fails.
   */
  addSession(subject: string, session: SignedInSession): Promise<void>;
  /**
   * The subject's live sessions, newest first: not expired, started after everyone's cut-off
   * and the subject's own. The reads run at once, so it takes one round trip. For an admin page
   * or a support tool too, outside any request.
   *
   * @param subject The subject.
   * @returns The entries, `lastSeenAt` the latest use written down.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when Deno KV fails.
   */
  listSessions(subject: string): Promise<SignedInSession[]>;
  /**
   * Notes that a session was used now: written to Deno KV at most once per `seenIntervalMs` per
   * session and isolate, so most calls do nothing. Never brings back an entry that is gone.
   *
   * @param subject The subject.
   * @param id The session's handle.
   * @param expiresAt When the session expires, Unix seconds.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when Deno KV fails.
   */
  seenSession(subject: string, id: string, expiresAt: number): Promise<void>;
  /**
   * Ends one session of a subject: its handle is refused on every instance (at once here,
   * within `cacheMs` elsewhere) until the session would have expired, and its entry leaves the
   * list. For a "sign out that device" button, or an operator outside any request.
   *
   * @param subject The subject.
   * @param id The session's handle, as {@linkcode KvRevocation.listSessions} gives it.
   * @returns False when the subject has no such session (ended already, dropped from the list,
   *   or another subject's): nothing is ended.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when Deno KV fails.
   */
  endSession(subject: string, id: string): Promise<boolean>;
  /**
   * Removes a session's entry from its subject's list (after a logout, which revoked its id).
   *
   * @param subject The subject.
   * @param id The session's handle.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when Deno KV fails.
   */
  removeSession(subject: string, id: string): Promise<void>;
}

/** A signed-in session's entry as stored, under its subject and handle. */
type StoredEntry = Omit<SignedInSession, "id">;

/** Newest first by start, then by handle. */
function newestFirst(a: SignedInSession, b: SignedInSession): number {
  return b.issuedAt - a.issuedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Most mutations Deno KV takes in one atomic operation. */
const KV_MUTATIONS_LIMIT = 1000;

function unavailable(action: string, cause: unknown): SessionStoreUnavailableError {
  return new SessionStoreUnavailableError(action, "Deno KV", cause);
}

/** Every option of {@linkcode KvRevocationOptions}. */
const KV_REVOCATION_OPTIONS: Record<keyof KvRevocationOptions, true> = {
  prefix: true,
  cacheMs: true,
  consistency: true,
  cacheSize: true,
  maxAge: true,
  timeoutMs: true,
  maxSessions: true,
  seenIntervalMs: true,
  now: true,
};

/**
 * Creates a revocation list on Deno KV, for the `revocation` option of `session()`.
 *
 * Each revoked session is one KV entry that expires with the session (`expireIn`), so the list
 * never outgrows the sessions still alive. Checks run only for cookies that opened and have not
 * expired.
 *
 * @param kv An open `Deno.Kv` (`await Deno.openKv()` on Deno Deploy, a file path locally,
 *   `":memory:"` in tests).
 * @param options Prefix, cache, consistency and the bounds of the list of sessions.
 * @returns The revocation list.
 * @throws {SessionConfigError} When an option is invalid.
 *
 * @example Logging out for good
 * ```ts
 * import assert from "node:assert/strict";
 * import { kvRevocation } from "./revocation.ts";
 *
 * const kv = await Deno.openKv(":memory:");
 * const revocation = kvRevocation(kv);
 * const id = crypto.getRandomValues(new Uint8Array(16));
 * const now = Math.floor(Date.now() / 1000);
 * await revocation.revoke(id, now + 60);
 * assert.ok(await revocation.isRevoked(id, now));
 * kv.close();
 * ```
 *
 * @example Signing out one device from the subject's list
 * ```ts
 * import assert from "node:assert/strict";
 * import { kvRevocation } from "./revocation.ts";
 *
 * const kv = await Deno.openKv(":memory:");
 * const revocation = kvRevocation(kv);
 * const now = Date.now() / 1000;
 * const handle = "3f2a9c0d1e4b5a67";
 * await revocation.addSession("ada", {
 *   id: handle,
 *   label: "Firefox on Linux",
 *   issuedAt: now,
 *   lastSeenAt: now,
 *   expiresAt: now + 3600,
 * });
 * assert.deepEqual((await revocation.listSessions("ada")).map((s) => s.label), ["Firefox on Linux"]);
 * assert.equal(await revocation.endSession("ada", handle), true);
 * // Every copy of that session's cookie is refused now.
 * const id = crypto.getRandomValues(new Uint8Array(16));
 * assert.ok(await revocation.isRevoked(id, now, "ada", handle));
 * kv.close();
 * ```
 */
export function kvRevocation(kv: Deno.Kv, options: KvRevocationOptions = {}): KvRevocation {
  assertKnownOptions(options, KV_REVOCATION_OPTIONS);
  /**
   * Moves a cut-off forward to `instant` (to the millisecond), never back, even when instances
   * race; returns the cut-off now stored.
   */
  async function raise(
    key: Deno.KvKey,
    instant: Date,
    expireIn: number | undefined,
    action: string,
  ): Promise<number> {
    const wanted = instant.getTime() / 1000;
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        const current = await within(kv.get<number>(key));
        if (typeof current.value === "number" && current.value >= wanted) return current.value;
        const set = kv.atomic().check(current).set(key, wanted, expireIn ? { expireIn } : {});
        if ((await within(commit(set))).ok) return wanted;
      }
    } catch (error) {
      throw unavailable(action, error);
    }
    throw unavailable(action, new Error("other instances kept changing it"));
  }

  const prefix = options.prefix ?? ["sealed-sessions", "revoked"];
  const consistency = options.consistency ?? "strong";
  const now = options.now ?? Date.now;
  if (consistency !== "strong" && consistency !== "eventual") {
    throw new SessionConfigError(
      "consistency",
      `must be "strong" or "eventual", received ${consistency}`,
    );
  }
  const maxAge = options.maxAge ?? MAX_AGE_LIMIT;
  if (!Number.isSafeInteger(maxAge) || maxAge <= 0) {
    throw new SessionConfigError(
      "maxAge",
      `must be a positive whole number of seconds, received ${maxAge}`,
    );
  }
  const maxSessions = options.maxSessions ?? 100;
  if (!Number.isSafeInteger(maxSessions) || maxSessions < 1) {
    throw new SessionConfigError(
      "maxSessions",
      `must be a whole number ≥ 1, received ${maxSessions}`,
    );
  }
  const seenIntervalMs = options.seenIntervalMs ?? 5 * 60 * 1000;
  if (!Number.isFinite(seenIntervalMs) || seenIntervalMs < 0) {
    throw new SessionConfigError(
      "seenIntervalMs",
      `must be a number of milliseconds ≥ 0, received ${seenIntervalMs}`,
    );
  }
  const cutoffKey: Deno.KvKey = [...prefix, "all-before"];
  const idKey = (id: string): Deno.KvKey => [...prefix, "id", id];
  const subjectKey = (subject: string): Deno.KvKey => [...prefix, "subject", subject];
  const handleKey = (handle: string): Deno.KvKey => [...prefix, "handle", handle];
  const entriesPrefix = (subject: string): Deno.KvKey => [...prefix, "sessions", subject];
  const entryKey = (subject: string, handle: string): Deno.KvKey => [
    ...entriesPrefix(subject),
    handle,
  ];
  const seenPrefix = (subject: string): Deno.KvKey => [...prefix, "seen", subject];
  const seenKey = (subject: string, handle: string): Deno.KvKey => [...seenPrefix(subject), handle];
  /**
   * The `expireIn` of a record about a session that expires at `expiresAt` (Unix seconds): kept
   * a minute past it, so clock skew between instances cannot reopen the session.
   */
  const untilExpiry = (expiresAt: number): number =>
    Math.max(1, expiresAt * 1000 - now()) + CLOCK_SKEW * 1000;

  const within = deadline(options.timeoutMs ?? 1000);
  const cache = new RevocationCache({
    cacheMs: options.cacheMs,
    cacheSize: options.cacheSize,
    now,
  });

  /** Every record under a key prefix. */
  async function listAll<T>(prefix: Deno.KvKey): Promise<Deno.KvEntry<T>[]> {
    return await within(Array.fromAsync(kv.list<T>({ prefix }, { consistency })));
  }

  /** The cut-off that applies to a subject's sessions: everyone's or its own, the later. */
  async function cutoffOf(subject: string): Promise<number> {
    const [everyone, own] = await within(
      kv.getMany([cutoffKey, subjectKey(subject)], { consistency }),
    );
    return Math.max(seconds(everyone!.value), seconds(own!.value));
  }

  /** A subject's entries as stored, expired or not. */
  async function entriesOf(subject: string): Promise<SignedInSession[]> {
    return (await listAll<StoredEntry>(entriesPrefix(subject))).map(({ key, value }) => ({
      id: String(key.at(-1)),
      label: value.label,
      issuedAt: value.issuedAt,
      lastSeenAt: value.lastSeenAt,
      expiresAt: value.expiresAt,
    }));
  }

  /** Deletes entries of a subject and their "seen" times, in as few atomic operations as fit. */
  async function forget(subject: string, handles: string[]): Promise<void> {
    const commits = [];
    for (let i = 0; i < handles.length; i += KV_MUTATIONS_LIMIT / 2) {
      const operation = kv.atomic();
      for (const handle of handles.slice(i, i + KV_MUTATIONS_LIMIT / 2)) {
        operation.delete(entryKey(subject, handle)).delete(seenKey(subject, handle));
      }
      commits.push(commit(operation));
    }
    await within(Promise.all(commits));
  }

  return {
    async isRevoked(id, startedAt, subject, handle) {
      const key = hex(id);
      const cached = cache.cached(key, startedAt, subject, handle);
      if (cached !== undefined) return cached;
      const started = cache.begin();
      const keys = [idKey(key), cutoffKey];
      if (subject !== undefined) keys.push(subjectKey(subject));
      if (handle !== undefined) keys.push(handleKey(handle));
      let entries: Deno.KvEntryMaybe<unknown>[];
      try {
        // One round trip: the id, everyone's cut-off, the subject's and the handle's.
        entries = await within(kv.getMany(keys, { consistency }));
      } catch (error) {
        throw unavailable("check session revocation", error);
      }
      return cache.settle(
        started,
        key,
        {
          revoked: entries[0]!.value !== null,
          before: seconds(entries[1]!.value),
          subjectBefore: subject === undefined ? undefined : seconds(entries[2]!.value),
          handleRevoked: handle === undefined ? undefined : entries.at(-1)!.value !== null,
        },
        startedAt,
        subject,
        handle,
      );
    },

    async revoke(id, expiresAt) {
      const key = hex(id);
      try {
        await within(kv.set(idKey(key), expiresAt, { expireIn: untilExpiry(expiresAt) }));
      } catch (error) {
        throw unavailable("revoke the session", error);
      }
      cache.revoked(key);
    },

    async revokeAllBefore(instant) {
      // Known here and now: applies at once, and reads already in flight cannot move it back.
      cache.cutoff(await raise(cutoffKey, instant, undefined, "revoke all sessions"));
    },

    async revokeSubject(subject, before = new Date()) {
      const expireIn = Math.max(1, before.getTime() + maxAge * 1000 - now()) + CLOCK_SKEW * 1000;
      const stored = await raise(subjectKey(subject), before, expireIn, "sign the subject out");
      cache.cutoff(stored, subject);
      // The list forgets the sessions the cut-off ended (listSessions hides them anyway).
      try {
        const ended = (await entriesOf(subject)).filter((entry) => cutOff(entry.issuedAt, stored));
        await forget(subject, ended.map((entry) => entry.id));
      } catch (error) {
        throw unavailable("sign the subject out", error);
      }
    },

    async addSession(subject, session) {
      try {
        const listed = await entriesOf(subject);
        const label = session.label ?? listed.find((entry) => entry.id === session.id)?.label;
        const entry = { ...session, label };
        const ranked = [entry, ...listed.filter((other) => other.id !== session.id)]
          .sort(newestFirst);
        const dropped = ranked.slice(maxSessions);
        if (!dropped.includes(entry)) {
          const value: StoredEntry = {
            label,
            issuedAt: entry.issuedAt,
            lastSeenAt: entry.lastSeenAt,
            expiresAt: entry.expiresAt,
          };
          // A session ended meanwhile is not added back.
          const write = kv.atomic()
            .check({ key: handleKey(entry.id), versionstamp: null })
            .set(entryKey(subject, entry.id), value, { expireIn: untilExpiry(entry.expiresAt) });
          if (!(await within(commit(write))).ok) return;
        }
        await forget(subject, dropped.map((other) => other.id));
      } catch (error) {
        throw unavailable("record the signed-in session", error);
      }
      // Seen now: its next read has nothing to write.
      cache.seen(session.id);
    },

    async listSessions(subject) {
      let listed: SignedInSession[];
      let seen: Deno.KvEntry<number>[];
      let before: number;
      try {
        // Side by side, so one round trip.
        [listed, seen, before] = await Promise.all([
          entriesOf(subject),
          listAll<number>(seenPrefix(subject)),
          cutoffOf(subject),
        ]);
      } catch (error) {
        throw unavailable("list the signed-in sessions", error);
      }
      const seenAt = new Map(seen.map(({ key, value }) => [String(key.at(-1)), value]));
      const at = now() / 1000;
      return listed
        .filter((entry) => entry.expiresAt > at && !cutOff(entry.issuedAt, before))
        .map((entry) => ({
          ...entry,
          lastSeenAt: Math.max(entry.lastSeenAt, seenAt.get(entry.id) ?? 0),
        }))
        .sort(newestFirst);
    },

    seenSession(subject, id, expiresAt) {
      // Most uses: nothing to write, and nothing made for it.
      if (!cache.seenDue(id, seenIntervalMs)) return NOTHING_TO_WRITE;
      // A key of its own: written without reading, and ignored once the entry is gone.
      const expireIn = untilExpiry(expiresAt);
      return Promise.resolve()
        .then(() => within(kv.set(seenKey(subject, id), now() / 1000, { expireIn })))
        .then(() => {}, (error) => Promise.reject(unavailable("note the session's use", error)));
    },

    async endSession(subject, id) {
      const key = entryKey(subject, id);
      try {
        for (let attempt = 0; attempt < 10; attempt++) {
          const entry = await within(kv.get<StoredEntry>(key));
          if (entry.value === null) return false;
          const expireIn = untilExpiry(entry.value.expiresAt);
          const end = kv.atomic().check(entry)
            .set(handleKey(id), entry.value.expiresAt, { expireIn })
            .delete(key)
            .delete(seenKey(subject, id));
          if ((await within(commit(end))).ok) {
            cache.ended(id);
            return true;
          }
        }
      } catch (error) {
        throw unavailable("end the session", error);
      }
      throw unavailable("end the session", new Error("other instances kept changing it"));
    },

    async removeSession(subject, id) {
      try {
        await within(
          commit(kv.atomic().delete(entryKey(subject, id)).delete(seenKey(subject, id))),
        );
      } catch (error) {
        throw unavailable("remove the signed-in session", error);
      }
    },
  };
}
