/**
 * Session revocation on Deno KV: a logout that holds even against copies of the cookie, and a
 * "log everyone out" cut-off. Deno KV runs embedded (SQLite) locally and globally replicated on
 * Deno Deploy, so this costs no new infrastructure.
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
import { deadline } from "../server_side/deadline.ts";
import { CLOCK_SKEW, MAX_AGE_LIMIT } from "../sealing/lifetime.ts";
import { RevocationCache } from "../server_side/revocation_cache.ts";

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
}

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
        if ((await within(set.commit())).ok) return wanted;
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
  const cutoffKey: Deno.KvKey = [...prefix, "all-before"];
  const idKey = (id: string): Deno.KvKey => [...prefix, "id", id];
  const subjectKey = (subject: string): Deno.KvKey => [...prefix, "subject", subject];

  const within = deadline(options.timeoutMs ?? 1000);
  const cache = new RevocationCache({
    cacheMs: options.cacheMs,
    cacheSize: options.cacheSize,
    now,
  });

  return {
    async isRevoked(id, startedAt, subject) {
      const key = hex(id);
      const cached = cache.cached(key, startedAt, subject);
      if (cached !== undefined) return cached;
      const started = cache.begin();
      const keys = [idKey(key), cutoffKey];
      if (subject !== undefined) keys.push(subjectKey(subject));
      let entries: Deno.KvEntryMaybe<unknown>[];
      try {
        // One round trip: the id, everyone's cut-off and the subject's.
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
          subjectBefore: seconds(entries[2]?.value),
        },
        startedAt,
        subject,
      );
    },

    async revoke(id, expiresAt) {
      const key = hex(id);
      // Kept a minute past expiry so clock skew between instances cannot reopen it.
      const expireIn = Math.max(1, expiresAt * 1000 - now()) + CLOCK_SKEW * 1000;
      try {
        await within(kv.set(idKey(key), expiresAt, { expireIn }));
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
      cache.cutoff(
        await raise(subjectKey(subject), before, expireIn, "sign the subject out"),
        subject,
      );
    },
  };
}
