/**
 * A server-side session store on Redis (or Valkey): the cookie holds only the sealed session
 * id, the data lives in Redis where every instance of a fleet reads it.
 *
 * Key (with the default prefix): `sealed-sessions:data:<session id in hex>`, a string
 * `<version>:<JSON body>`, TTL the session's remaining lifetime.
 *
 * @module
 */

import {
  assertKnownOptions,
  SessionConfigError,
  SessionConflictError,
  SessionTooLargeError,
} from "../common/errors.ts";
import type { SessionStore, StoredSession } from "../server_side/contracts.ts";
import { hex } from "../common/bytes.ts";
import { commandSender, type RedisClientLike } from "./_command.ts";

/**
 * Largest session body {@linkcode redisStore} accepts by default, in bytes: what `kvStore`
 * accepts, so that moving between Deno KV and Redis changes nothing for the app.
 */
export const REDIS_DEFAULT_MAX_BYTES = 65_472;

/** Options of {@linkcode redisStore}. */
export interface RedisStoreOptions {
  /**
   * Key prefix of the session entries (a `:` separates it from the session id).
   * @default {"sealed-sessions:data"}
   */
  prefix?: string;
  /**
   * Largest session body, in UTF-8 bytes; a larger one fails with `ERR_SESSION_TOO_LARGE`
   * and nothing is written.
   * @default {65472} ({@linkcode REDIS_DEFAULT_MAX_BYTES}, the Deno KV store's limit)
   */
  maxBytes?: number;
  /**
   * Longest wait for a Redis reply, in milliseconds; past it the request fails with
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

// Writes only if the entry is still at the version the request loaded ("" for none), so two
// requests changing one session cannot both win. Atomic: Redis runs a script alone.
const SAVE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local version = ''
if current then
  local colon = string.find(current, ':', 1, true)
  if colon then version = string.sub(current, 1, colon - 1) end
end
if version ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

const encoder = new TextEncoder();

function newVersion(): string {
  return hex(crypto.getRandomValues(new Uint8Array(12)));
}

/** Every option of {@linkcode RedisStoreOptions}. */
const REDIS_STORE_OPTIONS: Record<keyof RedisStoreOptions, true> = {
  prefix: true,
  maxBytes: true,
  timeoutMs: true,
  now: true,
};

/**
 * Creates a session store on Redis, for the `store` option of `session()`.
 *
 * Entries expire with the session (`PX`, the remaining lifetime). Saves run as one Lua script
 * that compares the version the request loaded: when two requests change one session at once,
 * the first save wins and the second fails with `ERR_SESSION_CONFLICT` instead of overwriting
 * it. Versions are random, so a session deleted and created again never matches an old one.
 *
 * @param client A connected client: `createClient({ url })` from `redis` (after `connect()`),
 *   or `new Redis(url)` from `ioredis`. The caller owns it and closes it.
 * @param options Prefix, size limit, timeout.
 * @returns The store.
 * @throws {SessionConfigError} When an option is invalid or the client has no command method.
 *
 * @example Too large a session is refused before Redis is asked
 * ```ts
 * import assert from "node:assert/strict";
 * import { redisStore } from "./store.ts";
 *
 * const client = { sendCommand: () => Promise.reject(new Error("not reached")) };
 * const store = redisStore(client, { maxBytes: 100 });
 * const id = crypto.getRandomValues(new Uint8Array(16));
 * await assert.rejects(
 *   store.save(id, JSON.stringify({ note: "x".repeat(200) }), Date.now() / 1000 + 60),
 *   { code: "ERR_SESSION_TOO_LARGE" },
 * );
 * ```
 */
export function redisStore(client: RedisClientLike, options: RedisStoreOptions = {}): SessionStore {
  assertKnownOptions(options, REDIS_STORE_OPTIONS);
  const prefix = options.prefix ?? "sealed-sessions:data";
  const maxBytes = options.maxBytes ?? REDIS_DEFAULT_MAX_BYTES;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) {
    throw new SessionConfigError("maxBytes", `must be a whole number ≥ 1, received ${maxBytes}`);
  }
  const command = commandSender(client, options.timeoutMs ?? 1000);
  const key = (id: Uint8Array) => `${prefix}:${hex(id)}`;

  const assertFits = (size: number) => {
    if (size > maxBytes) {
      throw new SessionTooLargeError(size, maxBytes, "in Redis", "raise redisStore's maxBytes");
    }
  };

  return {
    assertFits,

    async load(id) {
      const value = await command(["GET", key(id)], "load the session");
      if (typeof value !== "string") return undefined;
      const colon = value.indexOf(":");
      if (colon < 1) return undefined;
      return { body: value.slice(colon + 1), version: value.slice(0, colon) };
    },

    async save(id, body, expiresAt, expected) {
      assertFits(encoder.encode(body).length);
      const ttl = Math.max(1000, Math.ceil(expiresAt * 1000 - now()));
      const version = newVersion();
      const written = await command(
        [
          "EVAL",
          SAVE_SCRIPT,
          "1",
          key(id),
          expected?.version ?? "",
          `${version}:${body}`,
          String(ttl),
        ],
        "save the session",
      );
      if (Number(written) !== 1) throw new SessionConflictError();
      return { body, version } satisfies StoredSession;
    },

    async delete(id) {
      await command(["DEL", key(id)], "delete the session");
    },
  };
}
