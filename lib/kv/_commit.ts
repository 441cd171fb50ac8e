/**
 * Commits a Deno KV atomic operation, again after a short pause while Deno KV's local SQLite
 * answers "database is locked": it does so at once, without waiting, when an operation with a
 * check meets a write through another handle on the same file (another process, another
 * instance). Deno Deploy's KV never answers it.
 *
 * @module
 */

import { unrefDelay } from "../common/unref_delay.ts";

/** Most attempts at one commit: each locked one waits 5–20 ms, so about 0.2 s at worst. */
const ATTEMPTS = 16;

/**
 * Commits `operation`, retried while the local SQLite file is locked by another handle. A
 * failed check is answered, never retried: the caller decides what to do about it.
 *
 * @param operation The atomic operation; committing it again sends it again.
 * @returns What Deno KV answered.
 * @throws What the last attempt threw, or any other error at once.
 *
 * @example Committing an operation with a check
 * ```ts
 * import assert from "node:assert/strict";
 * import { commit } from "./_commit.ts";
 *
 * using kv = await Deno.openKv(":memory:");
 * const first = kv.atomic().check({ key: ["a"], versionstamp: null }).set(["a"], 1);
 * assert.equal((await commit(first)).ok, true);
 * assert.equal((await commit(first)).ok, false, "the key exists now: the check fails");
 * ```
 */
export async function commit(
  operation: Deno.AtomicOperation,
): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
  for (let attempt = 1;; attempt++) {
    try {
      return await operation.commit();
    } catch (error) {
      if (attempt === ATTEMPTS || !/database is locked/.test(String(error))) throw error;
      await unrefDelay(5 + Math.random() * 15);
    }
  }
}
