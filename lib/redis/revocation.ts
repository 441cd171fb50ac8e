/**
 * Session revocation on Redis (or Valkey): a logout that holds against copies of the cookie on
 * every instance of a self-hosted fleet, and a "log everyone out" cut-off.
 *
 * Keys (with the default prefix):
 * - `sealed-sessions:revoked:id:<session id in hex>`: one per revoked session, value its expiry
 *   (Unix seconds), TTL its remaining lifetime plus `skewMs`.
 * - `sealed-sessions:revoked:all-before`: the cut-off (Unix seconds), one key, no TTL.
 *
 * @module
 */

import { SessionConfigError } from "../session/errors.ts";
import type { SessionRevocation } from "../session/server_side.ts";
import { hex } from "../session/bytes.ts";
import { RevocationCache } from "../session/revocation_cache.ts";
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
   * Most session ids whose answer is cached.
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
   * Refuses every session issued before `instant`, on every instance ("log everyone out").
   * A later call with an earlier instant does not move it back.
   *
   * @param instant The cut-off.
   * @throws {SessionError} With code `ERR_SESSION_STORE_UNAVAILABLE` when Redis fails.
   */
  revokeAllBefore(instant: Date): Promise<void>;
}

// Moves the cut-off forward only, atomically even when instances race; returns the result.
const CUTOFF_SCRIPT = `
local current = tonumber(redis.call('GET', KEYS[1])) or 0
local wanted = tonumber(ARGV[1])
if wanted > current then
  redis.call('SET', KEYS[1], ARGV[1])
  return wanted
end
return current`;

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
  const prefix = options.prefix ?? "sealed-sessions:revoked";
  const skewMs = options.skewMs ?? 60_000;
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
  const cutoffKey = `${prefix}:all-before`;
  const idKey = (id: string) => `${prefix}:id:${id}`;

  return {
    async isRevoked(id, issuedAt) {
      const key = hex(id);
      const cached = cache.cached(key, issuedAt);
      if (cached !== undefined) return cached;
      const read = cache.begin();
      let reply: unknown;
      try {
        reply = await command(["MGET", idKey(key), cutoffKey], "check session revocation");
      } catch (error) {
        cache.abandon(read);
        throw error;
      }
      const [idValue, cutoffValue] = Array.isArray(reply) ? reply : [];
      return cache.settle(read, key, {
        revoked: idValue != null,
        before: Number(cutoffValue ?? 0) || 0,
      }, issuedAt);
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
      const seconds = Math.floor(instant.getTime() / 1000);
      const reply = await command(
        ["EVAL", CUTOFF_SCRIPT, "1", cutoffKey, String(seconds)],
        "revoke all sessions",
      );
      cache.cutoff(Number(reply) || seconds);
    },
  };
}
