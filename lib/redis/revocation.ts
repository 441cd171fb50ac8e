/**
 * Session revocation on Redis (or Valkey): a logout that holds against copies of the cookie on
 * every instance of a self-hosted fleet, and a "log everyone out" cut-off.
 *
 * Keys (with the default prefix):
 * - `sealed-sessions:revoked:id:<session id in hex>`: one per revoked session, value its expiry
 *   (Unix seconds), TTL its remaining lifetime plus `skewMs`.
 * - `sealed-sessions:revoked:all-before`: the cut-off (Unix seconds, to the millisecond), one key,
 *   no TTL.
 * - `sealed-sessions:revoked:subject:<subject>`: a subject's own cut-off, one key per subject
 *   ever signed out everywhere, TTL `maxAge` past its instant.
 *
 * @module
 */

import {
  assertKnownOptions,
  SessionConfigError,
  SessionStoreUnavailableError,
} from "../common/errors.ts";
import type { SessionRevocation } from "../server_side/contracts.ts";
import { hex } from "../common/bytes.ts";
import { CLOCK_SKEW, MAX_AGE_LIMIT } from "../sealing/lifetime.ts";
import { RevocationCache } from "../server_side/revocation_cache.ts";
import { commandSender, type RedisClientLike } from "./_command.ts";

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

/** Every option of {@linkcode RedisRevocationOptions}. */
const REDIS_REVOCATION_OPTIONS: Record<keyof RedisRevocationOptions, true> = {
  prefix: true,
  cacheMs: true,
  cacheSize: true,
  skewMs: true,
  maxAge: true,
  timeoutMs: true,
  now: true,
};

/**
 * Creates a revocation list on Redis, for the `revocation` option of `session()`.
 *
 * One `MGET` per check (the session's record and the cut-off), cached `cacheMs`. A revocation
 * or cut-off set by this process wins over any read that was already in flight when it was
 * set, so a logout is never undone here by a stale answer.
 *
 * @param client A connected client: `createClient({ url })` from `redis` (after `connect()`),
 *   or `new Redis(url)` from `ioredis`. The caller owns it and closes it.
 * @param options Prefix, cache, timeout.
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
  const cutoffKey = `${prefix}:all-before`;
  const idKey = (id: string) => `${prefix}:id:${id}`;
  const subjectKey = (subject: string) => `${prefix}:subject:${subject}`;
  const handleKey = (handle: string) => `${prefix}:handle:${handle}`;

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
      cache.cutoff(await raise(subjectKey(subject), before, ttl, "sign the subject out"), subject);
    },
  };
}
