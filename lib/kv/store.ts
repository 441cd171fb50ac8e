/**
 * A server-side session store on Deno KV: the cookie holds only the sealed session id, the data
 * lives in KV. For sessions larger than cookies allow, or data that must never leave the server.
 *
 * @module
 */

import {
  assertKnownOptions,
  SessionConfigError,
  SessionConflictError,
  SessionStoreUnavailableError,
  SessionTooLargeError,
} from "../common/errors.ts";
import type { SessionStore, StoredSession } from "../server_side/contracts.ts";
import { hex } from "../common/bytes.ts";
import { commit } from "./_commit.ts";
import { deadline } from "../server_side/deadline.ts";

/**
 * Largest value Deno KV accepts, in bytes: a session body above it cannot be stored.
 *
 * @example Checking a body before storing it
 * ```ts
 * import assert from "node:assert/strict";
 * import { KV_VALUE_LIMIT } from "./store.ts";
 *
 * const body = JSON.stringify({ note: "x".repeat(70_000) });
 * assert.ok(new TextEncoder().encode(body).length > KV_VALUE_LIMIT);
 * ```
 */
export const KV_VALUE_LIMIT = 65_536;

/** Options of {@linkcode kvStore}. */
export interface KvStoreOptions {
  /**
   * Key prefix of the session entries.
   * @default {["sealed-sessions", "data"]}
   */
  prefix?: Deno.KvKey;
  /**
   * KV read consistency. `strong` always sees the latest write (needed for the concurrency
   * check to catch a conflict at load time); `eventual` may read a replica that is behind,
   * and a save from such a stale read then fails as a conflict rather than overwrite.
   * @default {"strong"}
   */
  consistency?: Deno.KvConsistencyLevel;
  /**
   * Longest wait for Deno KV, in milliseconds; past it the request fails with
   * `ERR_SESSION_STORE_UNAVAILABLE` (a 503, or an empty session with `failOpen`).
   * @default {1000}
   */
  timeoutMs?: number;
  /**
   * Clock in milliseconds, for tests.
   * @default {Date.now}
   */
  now?: () => number;
}

function unavailable(action: string, cause: unknown): SessionStoreUnavailableError {
  return new SessionStoreUnavailableError(`${action} the session`, "Deno KV", cause);
}

const encoder = new TextEncoder();

/** Every option of {@linkcode KvStoreOptions}. */
const KV_STORE_OPTIONS: Record<keyof KvStoreOptions, true> = {
  prefix: true,
  consistency: true,
  timeoutMs: true,
  now: true,
};

/**
 * Creates a session store on Deno KV, for the `store` option of `session()`.
 *
 * Entries expire with the session (`expireIn`). Writes are atomic and checked against the
 * versionstamp the request loaded: when two requests change one session at once, the first
 * save wins and the second fails with `ERR_SESSION_CONFLICT` instead of overwriting it.
 *
 * @param kv An open `Deno.Kv`.
 * @param options Prefix and consistency.
 * @returns The store.
 * @throws {SessionConfigError} When an option is invalid.
 *
 * @example Saving and loading a session in memory
 * ```ts
 * import assert from "node:assert/strict";
 * import { kvStore } from "./store.ts";
 *
 * const kv = await Deno.openKv(":memory:");
 * const store = kvStore(kv);
 * const id = crypto.getRandomValues(new Uint8Array(16));
 * const saved = await store.save(id, '{"name":"Ada"}', Date.now() / 1000 + 60);
 * assert.equal((await store.load(id))?.version, saved.version);
 * kv.close();
 * ```
 */
export function kvStore(kv: Deno.Kv, options: KvStoreOptions = {}): SessionStore {
  assertKnownOptions(options, KV_STORE_OPTIONS);
  const prefix = options.prefix ?? ["sealed-sessions", "data"];
  const consistency = options.consistency ?? "strong";
  const now = options.now ?? Date.now;
  if (consistency !== "strong" && consistency !== "eventual") {
    throw new SessionConfigError(
      "consistency",
      `must be "strong" or "eventual", received ${consistency}`,
    );
  }
  const key = (id: Uint8Array): Deno.KvKey => [...prefix, hex(id)];
  const within = deadline(options.timeoutMs ?? 1000);

  // Deno KV measures the serialised value: a string's UTF-8 length plus a few bytes.
  const assertFits = (size: number) => {
    if (size > KV_VALUE_LIMIT - 64) {
      throw new SessionTooLargeError(
        size,
        KV_VALUE_LIMIT - 64,
        "in Deno KV",
        "keep large data elsewhere (Deno KV values are limited to 64 KiB)",
      );
    }
  };

  return {
    assertFits,

    async load(id) {
      let entry: Deno.KvEntryMaybe<string>;
      try {
        entry = await within(kv.get<string>(key(id), { consistency }));
      } catch (error) {
        throw unavailable("load", error);
      }
      return typeof entry.value === "string"
        ? { body: entry.value, version: entry.versionstamp }
        : undefined;
    },

    async save(id, body, expiresAt, expected) {
      assertFits(encoder.encode(body).length);
      const expireIn = Math.max(1000, expiresAt * 1000 - now());
      let result: Deno.KvCommitResult | Deno.KvCommitError;
      try {
        result = await within(commit(
          kv.atomic()
            .check({ key: key(id), versionstamp: expected?.version ?? null })
            .set(key(id), body, { expireIn }),
        ));
      } catch (error) {
        throw unavailable("save", error);
      }
      if (!result.ok) throw new SessionConflictError();
      return { body, version: result.versionstamp } satisfies StoredSession;
    },

    async delete(id) {
      try {
        await within(kv.delete(key(id)));
      } catch (error) {
        throw unavailable("delete", error);
      }
    },
  };
}
