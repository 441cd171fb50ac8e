/**
 * Session revocation on Deno KV: a logout that holds even against copies of the cookie, and a
 * "log everyone out" cut-off. Deno KV runs embedded (SQLite) locally and globally replicated on
 * Deno Deploy, so this costs no new infrastructure.
 *
 * @module
 */

import { SessionConfigError, SessionError } from "../session/errors.ts";
import type { SessionRevocation } from "../session/server_side.ts";
import { hex } from "../session/bytes.ts";
import { RevocationCache } from "../session/revocation_cache.ts";

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
   * Most session ids whose answer is cached.
   * @default {10000}
   */
  cacheSize?: number;
  /**
   * Clock in milliseconds, for tests.
   * @default {Date.now}
   */
  now?: () => number;
}

/** A {@linkcode SessionRevocation} on Deno KV, with the cut-off operation. */
export interface KvRevocation extends SessionRevocation {
  /**
   * Refuses every session issued before `instant`, everywhere ("log everyone out", after a
   * leaked secret or a breach). A later call with an earlier instant does not move it back.
   *
   * @param instant The cut-off.
   */
  revokeAllBefore(instant: Date): Promise<void>;
}

function unavailable(cause: unknown): SessionError {
  return new SessionError(
    "ERR_SESSION_STORE_UNAVAILABLE",
    "Cannot check session revocation: Deno KV did not answer",
    { cause },
  );
}

/**
 * Creates a revocation list on Deno KV, for the `revocation` option of `session()`.
 *
 * Each revoked session is one KV entry that expires with the session (`expireIn`), so the list
 * never outgrows the sessions still alive. Checks run only for cookies that opened and have not
 * expired.
 *
 * @param kv An open `Deno.Kv` (`await Deno.openKv()` on Deno Deploy, a file path locally,
 *   `":memory:"` in tests).
 * @param options Prefix, cache and consistency.
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
 */
export function kvRevocation(kv: Deno.Kv, options: KvRevocationOptions = {}): KvRevocation {
  const prefix = options.prefix ?? ["sealed-sessions", "revoked"];
  const consistency = options.consistency ?? "strong";
  const now = options.now ?? Date.now;
  if (consistency !== "strong" && consistency !== "eventual") {
    throw new SessionConfigError(
      "consistency",
      `must be "strong" or "eventual", received ${consistency}`,
    );
  }
  const cutoffKey: Deno.KvKey = [...prefix, "all-before"];
  const idKey = (id: string): Deno.KvKey => [...prefix, "id", id];

  const cache = new RevocationCache({
    cacheMs: options.cacheMs,
    cacheSize: options.cacheSize,
    now,
  });

  return {
    async isRevoked(id, issuedAt) {
      const key = hex(id);
      const cached = cache.cached(key, issuedAt);
      if (cached !== undefined) return cached;
      const started = cache.begin();
      let entries: Deno.KvEntryMaybe<unknown>[];
      try {
        entries = await kv.getMany([idKey(key), cutoffKey], { consistency });
      } catch (error) {
        cache.abandon(started);
        throw unavailable(error);
      }
      const before = entries[1]!.value;
      return cache.settle(started, key, {
        revoked: entries[0]!.value !== null,
        before: typeof before === "number" ? before : 0,
      }, issuedAt);
    },

    async revoke(id, expiresAt) {
      const key = hex(id);
      // Kept a minute past expiry so clock skew between instances cannot reopen it.
      const expireIn = Math.max(1, expiresAt * 1000 - now()) + 60_000;
      try {
        await kv.set(idKey(key), expiresAt, { expireIn });
      } catch (error) {
        throw unavailable(error);
      }
      cache.revoked(key);
    },

    async revokeAllBefore(instant) {
      const seconds = Math.floor(instant.getTime() / 1000);
      let stored = seconds;
      try {
        // Only ever moves forward, even when two instances race.
        for (let attempt = 0; attempt < 10; attempt++) {
          const current = await kv.get<number>(cutoffKey);
          if (typeof current.value === "number" && current.value >= seconds) {
            stored = current.value;
            break;
          }
          const result = await kv.atomic().check(current).set(cutoffKey, seconds).commit();
          if (result.ok) break;
        }
      } catch (error) {
        throw unavailable(error);
      }
      // Known here and now: applies at once, and reads already in flight cannot move it back.
      cache.cutoff(stored);
    },
  };
}
