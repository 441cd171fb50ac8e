/**
 * Session revocation on Redis (or Valkey): a logout that holds against copies of the cookie on
 * every instance of a self-hosted fleet, a "log everyone out" cut-off, and each subject's list of
 * signed-in sessions, any of which can be ended.
 *
 * Keys (with the default prefix):
 * - `sealed-sessions:revoked:id:<session id in hex>`: one per revoked session, value its expiry
 *   (Unix seconds), TTL its remaining lifetime plus `skewMs`.
 * - `sealed-sessions:revoked:all-before`: the cut-off (Unix seconds, to the millisecond), one key,
 *   no TTL.
 * - `sealed-sessions:revoked:subject:<subject>`: a subject's own cut-off, one key per subject
 *   ever signed out everywhere, TTL `maxAge` past its instant.
 * - `sealed-sessions:revoked:sessions:<subject>`: a hash, the subject's signed-in sessions (at
 *   most `maxSessions`): field `e:<handle>` the entry (JSON, its label included), `s:<handle>` when
 *   it was last seen; TTL the remaining lifetime of its latest session plus `skewMs`.
 * - `sealed-sessions:revoked:handle:<handle>`: one per session ended by its handle, value its
 *   expiry (Unix seconds), TTL its remaining lifetime plus `skewMs`.
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
import { CLOCK_SKEW, cutOff, MAX_AGE_LIMIT } from "../sealing/lifetime.ts";
import { RevocationCache } from "../server_side/revocation_cache.ts";
import { commandSender, type RedisClientLike } from "./_command.ts";

/** What `seenSession()` answers when there is nothing to write: one promise for all. */
const NOTHING_TO_WRITE: Promise<void> = Promise.resolve();

/** Options of {@linkcode redisRevocation}. */
export interface RedisRevocationOptions {
  /**
   * Key prefix of the revocation records (a `:` separates it from the rest).
   * @default {"sealed-sessions:revoked"}
   */
  prefix?: string;
  /**
   * How long, in milliseconds, an answer from Redis is reused in this process. This bounds how
   * long a revocation made by another instance can go unnoticed here; revocations made by this
   * process apply at once. 0 asks Redis on every request.
   * @default {1000}
   */
  cacheMs?: number;
  /**
   * Most answers kept of each kind: session ids read, subjects' cut-offs read, and the
   * revocations and cut-offs this process made (which reads never push out).
   * @default {10000}
   */
  cacheSize?: number;
  /**
   * How long a revocation record outlives the session it revokes, in milliseconds, so that an
   * instance whose clock is behind cannot accept the session after the record is gone.
   * @default {60000}
   */
  skewMs?: number;
  /**
   * The longest session lifetime (`maxAge`, seconds) of the apps that use this list: a
   * subject's cut-off ({@linkcode RedisRevocation.revokeSubject}) is kept this long past its
   * instant, when every session it refuses has expired anyway.
   * @default {34560000} (400 days, the longest `maxAge` allowed)
   */
  maxAge?: number;
  /**
   * Most entries kept in a subject's list of signed-in sessions
   * ({@linkcode RedisRevocation.addSession}); beyond it the oldest are dropped from the list
   * (their sessions go on).
   * @default {100}
   */
  maxSessions?: number;
  /**
   * Shortest time, in milliseconds, between two writes of a session's "last seen" time by this
   * process ({@linkcode RedisRevocation.seenSession}): the calls in between cost nothing.
   * @default {300000} (5 minutes)
   */
  seenIntervalMs?: number;
  /**
   * Longest wait for a Redis reply, in milliseconds; past it the check fails with
   * `ERR_SESSION_STORE_UNAVAILABLE` (a 503, or unchecked with `failOpen`).
   * @default {1000}
   */
  timeoutMs?: number;
  /**
   * Clock in milliseconds, for tests.
   * @default {Date.now}
   */
  now?: () => number;
}

/** A {@linkcode SessionRevocation} on Redis, with the cut-off operation. */
export interface RedisRevocation extends SessionRevocation {
  /**
   * Refuses every session started up to `instant` (to the millisecond), on every instance ("log everyone out").
   * A later call with an earlier instant does not move it back.
   *
   * @param instant The cut-off.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when Redis fails.
   */
  revokeAllBefore(instant: Date): Promise<void>;
  /**
   * Refuses every session of `subject` started up to `before` (to the millisecond), on every
   * instance: "sign out everywhere". One key per subject, which expires `maxAge` after it.
   *
   * @param subject The subject, as `session.subject` holds it.
   * @param before The cut-off.
   * @default {new Date()}
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when Redis fails.
   */
  revokeSubject(subject: string, before?: Date): Promise<void>;
  /**
   * Records a session in its subject's list of signed-in sessions, or updates its entry. The
   * list is one hash per subject, which expires `skewMs` after its latest session; an entry
   * whose `label` is undefined keeps the label stored before; beyond `maxSessions` entries the
   * oldest (by `issuedAt`) leave the list, their sessions going on. One Lua script.
   *
   * @param subject The subject.
   * @param session The entry; its `label` is the app's own text, kept in Redis (never in the
   *   cookie).
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when Redis fails.
   */
  addSession(subject: string, session: SignedInSession): Promise<void>;
  /**
   * The subject's live sessions, newest first: not expired, and started after both everyone's
   * cut-off and the subject's own. One round trip; also usable outside a request (an admin
   * page, a script).
   *
   * @param subject The subject.
   * @returns The entries, each with the latest time it was seen.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when Redis fails.
   */
  listSessions(subject: string): Promise<SignedInSession[]>;
  /**
   * Notes that a session was used now: written to Redis at most once per `seenIntervalMs` per
   * session in this process (the other calls send nothing), and only while its entry exists.
   *
   * @param subject The subject.
   * @param id The session's handle.
   * @param expiresAt When the session expires, Unix seconds.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when Redis fails.
   */
  seenSession(subject: string, id: string, expiresAt: number): Promise<void>;
  /**
   * Ends one session of a subject, atomically: its handle is recorded as ended until the
   * session expires (plus `skewMs`), so every copy of its cookie is refused, at once here and
   * within `cacheMs` on other instances; its entry leaves the list. Also usable outside a
   * request, e.g. from an admin tool with its own client.
   *
   * @param subject The subject.
   * @param id The session's handle, as {@linkcode RedisRevocation.listSessions} gives it.
   * @returns False when the subject has no such session (ended already, or another subject's).
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when Redis fails.
   */
  endSession(subject: string, id: string): Promise<boolean>;
  /**
   * Removes a session's entry from its subject's list (after a logout, which revoked its id).
   *
   * @param subject The subject.
   * @param id The session's handle.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when Redis fails.
   */
  removeSession(subject: string, id: string): Promise<void>;
}

// Moves a cut-off forward only, atomically even when instances race, with a TTL in ms when
// ARGV[2] is given; returns the result as text (a Lua number would reach the client cut to a
// whole number).
const CUTOFF_SCRIPT = `
local stored = redis.call('GET', KEYS[1])
if (tonumber(stored) or 0) < tonumber(ARGV[1]) then
  if ARGV[2] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  else
    redis.call('SET', KEYS[1], ARGV[1])
  end
  return ARGV[1]
end
return stored`;

// A subject's list is one hash: field `e:<handle>` holds the entry (JSON), `s:<handle>` its last
// seen time. The scripts below keep the two together, and run alone: instances never race.

// Records an entry (ARGV: handle, JSON, bound, now in ms, skewMs): keeps the label stored before
// when the new one has none (spliced in, so that no number is re-encoded), drops expired
// entries and, beyond the bound, the oldest; the hash expires with its latest session.
const ADD_SCRIPT = `
local field = 'e:' .. ARGV[1]
local json = ARGV[2]
if cjson.decode(json).label == nil then
  local stored = redis.call('HGET', KEYS[1], field)
  local label = stored and cjson.decode(stored).label
  if type(label) == 'string' then
    json = string.sub(json, 1, -2) .. ',"label":' .. cjson.encode(label) .. '}'
  end
end
redis.call('HSET', KEYS[1], field, json)
local now = tonumber(ARGV[4])
local live = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 2) == 'e:' then
    local entry = cjson.decode(all[i + 1])
    entry.handle = string.sub(all[i], 3)
    table.insert(live, entry)
  end
end
table.sort(live, function(a, b) return a.issuedAt > b.issuedAt end)
local latest = 0
local kept = 0
for _, entry in ipairs(live) do
  if entry.expiresAt * 1000 > now and kept < tonumber(ARGV[3]) then
    kept = kept + 1
    latest = math.max(latest, entry.expiresAt)
  else
    redis.call('HDEL', KEYS[1], 'e:' .. entry.handle, 's:' .. entry.handle)
  end
end
if kept > 0 then
  local ttl = math.ceil(math.max(1, latest * 1000 - now) + tonumber(ARGV[5]))
  redis.call('PEXPIRE', KEYS[1], string.format('%d', ttl))
end`;

// The subject's list and both cut-offs that apply to it, as text ("" for none).
const LIST_SCRIPT = `
return {
  redis.call('GET', KEYS[2]) or '',
  redis.call('GET', KEYS[3]) or '',
  redis.call('HGETALL', KEYS[1]),
}`;

// Writes a session's last seen time (ARGV: handle, time), only while its entry exists.
const SEEN_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'e:' .. ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], 's:' .. ARGV[1], ARGV[2])
end`;

// Ends a session of this subject (ARGV: handle, now in ms, skewMs): records its handle as
// ended until the session expires, and removes its entry; 0 when the subject has no such entry.
const END_SCRIPT = `
local stored = redis.call('HGET', KEYS[1], 'e:' .. ARGV[1])
if not stored then return 0 end
local expiresAt = cjson.decode(stored).expiresAt
local ttl = math.ceil(math.max(1, expiresAt * 1000 - tonumber(ARGV[2])) + tonumber(ARGV[3]))
redis.call('SET', KEYS[2], tostring(expiresAt), 'PX', string.format('%d', ttl))
redis.call('HDEL', KEYS[1], 'e:' .. ARGV[1], 's:' .. ARGV[1])
return 1`;

// Removes the entries of sessions started at or before a cut-off (ARGV[1], Unix seconds).
const PRUNE_SCRIPT = `
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 2) == 'e:' and cjson.decode(all[i + 1]).issuedAt <= tonumber(ARGV[1]) then
    local handle = string.sub(all[i], 3)
    redis.call('HDEL', KEYS[1], 'e:' .. handle, 's:' .. handle)
  end
end`;

/** Every option of {@linkcode RedisRevocationOptions}. */
const REDIS_REVOCATION_OPTIONS: Record<keyof RedisRevocationOptions, true> = {
  prefix: true,
  cacheMs: true,
  cacheSize: true,
  skewMs: true,
  maxAge: true,
  maxSessions: true,
  seenIntervalMs: true,
  timeoutMs: true,
  now: true,
};

/**
 * Creates a revocation list on Redis, for the `revocation` option of `session()`.
 *
 * One `MGET` per check (the session's record, the cut-offs, whether its handle was ended), cached
 * `cacheMs`. A revocation or cut-off set by this process wins over any read that was already in
 * flight when it was set, so a logout is never undone here by a stale answer.
 *
 * @param client A connected client: `createClient({ url })` from `redis` (after `connect()`),
 *   or `new Redis(url)` from `ioredis`. The caller owns it and closes it.
 * @param options Prefix, cache, timeout, the bound of each subject's list.
 * @returns The revocation list.
 * @throws {SessionConfigError} When an option is invalid or the client has no command method.
 *
 * @example Logging out for good (with a stand-in client; use `redis` or `ioredis` for real)
 * ```ts
 * import assert from "node:assert/strict";
 * import { redisRevocation } from "./revocation.ts";
 *
 * const data = new Map<string, string>();
 * const client = {
 *   sendCommand: ([name, ...args]: string[]) =>
 *     Promise.resolve(
 *       name === "SET" ? (data.set(args[0]!, args[1]!), "OK") : args.map((k) => data.get(k) ?? null),
 *     ),
 * };
 * const revocation = redisRevocation(client, { cacheMs: 0 });
 * const id = crypto.getRandomValues(new Uint8Array(16));
 * const now = Math.floor(Date.now() / 1000);
 * assert.equal(await revocation.isRevoked(id, now), false);
 * await revocation.revoke(id, now + 60);
 * assert.equal(await revocation.isRevoked(id, now), true);
 * ```
 */
export function redisRevocation(
  client: RedisClientLike,
  options: RedisRevocationOptions = {},
): RedisRevocation {
  assertKnownOptions(options, REDIS_REVOCATION_OPTIONS);
  const prefix = options.prefix ?? "sealed-sessions:revoked";
  const skewMs = options.skewMs ?? CLOCK_SKEW * 1000;
  const now = options.now ?? Date.now;
  if (!Number.isFinite(skewMs) || skewMs < 0) {
    throw new SessionConfigError(
      "skewMs",
      `must be a number of milliseconds ≥ 0, received ${skewMs}`,
    );
  }
  const cache = new RevocationCache({
    cacheMs: options.cacheMs,
    cacheSize: options.cacheSize,
    now,
  });
  const command = commandSender(client, options.timeoutMs ?? 1000);
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
  const seenIntervalMs = options.seenIntervalMs ?? 5 * 60_000;
  if (!Number.isFinite(seenIntervalMs) || seenIntervalMs < 0) {
    throw new SessionConfigError(
      "seenIntervalMs",
      `must be a number of milliseconds ≥ 0, received ${seenIntervalMs}`,
    );
  }
  const cutoffKey = `${prefix}:all-before`;
  const idKey = (id: string) => `${prefix}:id:${id}`;
  const subjectKey = (subject: string) => `${prefix}:subject:${subject}`;
  const handleKey = (handle: string) => `${prefix}:handle:${handle}`;
  const sessionsKey = (subject: string) => `${prefix}:sessions:${subject}`;

  /** Moves a cut-off forward to `instant`; returns the cut-off now stored, in seconds. */
  async function raise(key: string, instant: Date, ttlMs: number | undefined, action: string) {
    const wanted = instant.getTime() / 1000;
    const args = ["EVAL", CUTOFF_SCRIPT, "1", key, String(wanted)];
    if (ttlMs !== undefined) args.push(String(Math.max(1, Math.ceil(ttlMs))));
    return Math.max(Number(await command(args, action)) || 0, wanted);
  }

  return {
    async isRevoked(id, startedAt, subject, handle) {
      const key = hex(id);
      const cached = cache.cached(key, startedAt, subject, handle);
      if (cached !== undefined) return cached;
      const read = cache.begin();
      // One round trip: the id, everyone's cut-off, the subject's, and whether the handle ended.
      const keys = [idKey(key), cutoffKey];
      if (subject !== undefined) keys.push(subjectKey(subject));
      if (handle !== undefined) keys.push(handleKey(handle));
      const reply = await command(["MGET", ...keys], "check session revocation");
      if (!Array.isArray(reply) || reply.length !== keys.length) {
        // Not what MGET answers (a proxy, a mock, a client in the wrong mode): refusing to guess
        // is failing closed, or open as configured, never accepting unchecked.
        throw new SessionStoreUnavailableError(
          "check session revocation",
          "Redis",
          new Error(
            `MGET answered ${Array.isArray(reply) ? `${reply.length} values` : typeof reply}`,
          ),
        );
      }
      const [idValue, cutoffValue] = reply;
      const subjectValue = subject === undefined ? null : reply[2];
      return cache.settle(
        read,
        key,
        {
          revoked: idValue != null,
          before: Number(cutoffValue ?? 0) || 0,
          subjectBefore: Number(subjectValue ?? 0) || 0,
          handleRevoked: handle !== undefined && reply.at(-1) != null,
        },
        startedAt,
        subject,
        handle,
      );
    },

    async revoke(id, expiresAt) {
      const key = hex(id);
      const ttl = Math.max(1, Math.ceil(expiresAt * 1000 - now())) + skewMs;
      await command(
        ["SET", idKey(key), String(expiresAt), "PX", String(ttl)],
        "revoke the session",
      );
      cache.revoked(key);
    },

    async revokeAllBefore(instant) {
      cache.cutoff(await raise(cutoffKey, instant, undefined, "revoke all sessions"));
    },

    async revokeSubject(subject, before = new Date()) {
      const ttl = before.getTime() + maxAge * 1000 - now() + skewMs;
      const cutoff = await raise(subjectKey(subject), before, ttl, "sign the subject out");
      cache.cutoff(cutoff, subject);
      // Best effort: the list hides these entries anyway; this only frees their room.
      await command(
        ["EVAL", PRUNE_SCRIPT, "1", sessionsKey(subject), String(cutoff)],
        "prune the subject's sessions",
      ).catch(() => {});
    },

    async addSession(subject, session) {
      const { id, issuedAt, lastSeenAt, expiresAt, label } = session;
      // The label last: the script adds the stored one in its place when it is left out.
      const entry = JSON.stringify({ id, issuedAt, lastSeenAt, expiresAt, label });
      await command(
        [
          "EVAL",
          ADD_SCRIPT,
          "1",
          sessionsKey(subject),
          id,
          entry,
          String(maxSessions),
          String(now()),
          String(skewMs),
        ],
        "record the session",
      );
      // Seen now: its next read has nothing to write.
      cache.seen(id);
    },

    async listSessions(subject) {
      const reply = await command(
        ["EVAL", LIST_SCRIPT, "3", sessionsKey(subject), cutoffKey, subjectKey(subject)],
        "list the subject's sessions",
      );
      if (!Array.isArray(reply) || reply.length !== 3 || !Array.isArray(reply[2])) {
        throw new SessionStoreUnavailableError(
          "list the subject's sessions",
          "Redis",
          new Error(`the script answered ${JSON.stringify(reply)}`),
        );
      }
      const [everyone, own, fields] = reply as [string, string, string[]];
      const before = Math.max(Number(everyone) || 0, Number(own) || 0);
      const nowSeconds = now() / 1000;
      const seen = new Map<string, number>();
      const entries: SignedInSession[] = [];
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const field = String(fields[i]);
        const value = String(fields[i + 1]);
        if (field.startsWith("s:")) seen.set(field.slice(2), Number(value) || 0);
        else if (field.startsWith("e:")) entries.push(JSON.parse(value));
      }
      return entries
        .filter((entry) => entry.expiresAt > nowSeconds && !cutOff(entry.issuedAt, before))
        .map((entry) => ({
          id: entry.id,
          label: entry.label ?? undefined,
          issuedAt: entry.issuedAt,
          lastSeenAt: Math.max(entry.lastSeenAt, seen.get(entry.id) ?? 0),
          expiresAt: entry.expiresAt,
        }))
        .sort((a, b) => b.issuedAt - a.issuedAt);
    },

    seenSession(subject, id) {
      // Most uses: nothing to write, and nothing made for it.
      if (!cache.seenDue(id, seenIntervalMs)) return NOTHING_TO_WRITE;
      return command(
        ["EVAL", SEEN_SCRIPT, "1", sessionsKey(subject), id, String(now() / 1000)],
        "note the session as seen",
      ).then(() => {});
    },

    async endSession(subject, id) {
      const ended = await command(
        [
          "EVAL",
          END_SCRIPT,
          "2",
          sessionsKey(subject),
          handleKey(id),
          id,
          String(now()),
          String(skewMs),
        ],
        "end the session",
      );
      if (Number(ended) !== 1) return false;
      cache.ended(id);
      return true;
    },

    async removeSession(subject, id) {
      await command(
        ["HDEL", sessionsKey(subject), `e:${id}`, `s:${id}`],
        "remove the session from its subject's list",
      );
    },
  };
}
