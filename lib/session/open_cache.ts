/**
 * A bounded cache of opened cookies, keyed by cookie name and exact value. A browser sends the
 * same cookie on every request until it changes, so a hit skips the decryption; the data is kept
 * only as the sealed JSON text and parsed afresh on each hit, and expiry is checked every time,
 * so a hit answers exactly as a fresh open would.
 *
 * @module
 */

import { assertUnexpired, decodeBody, type OpenedRecord, type Sealer } from "./seal.ts";

/**
 * Opened cookies, oldest evicted first.
 *
 * @example Opening the same cookie twice
 * ```ts
 * import assert from "node:assert/strict";
 * import { OpenCache } from "./open_cache.ts";
 * import { createSealer } from "./seal.ts";
 *
 * const sealer = await createSealer({ secrets: ["a secret of at least thirty-two bytes!"] });
 * const now = Math.floor(Date.now() / 1000);
 * const value = sealer.sealSync({
 *   id: new Uint8Array(16),
 *   issuedAt: now,
 *   expiresAt: now + 60,
 *   idleExpiresAt: 0,
 *   data: { name: "Ada" },
 * }, "session");
 * const cache = new OpenCache(100);
 * assert.equal(cache.open(sealer, value, "session", now).data.name, "Ada");
 * assert.equal(cache.open(sealer, value, "session", now).data.name, "Ada"); // a hit
 * ```
 */
export class OpenCache {
  readonly #size: number;
  readonly #entries = new Map<string, OpenedRecord>();

  /** @param size Most entries kept; 0 turns the cache off. */
  constructor(size: number) {
    this.#size = size;
  }

  /**
   * Opens a cookie value, from the cache when it was opened before.
   *
   * @param sealer The sealer (synchronous backend).
   * @param value The cookie value.
   * @param name The cookie name it came in.
   * @param now Current Unix time in seconds.
   * @returns The record, with its own copy of the data.
   * @throws {InvalidSessionError} As {@linkcode Sealer.openSync}; failures are never cached.
   */
  open(sealer: Sealer, value: string, name: string, now: number): OpenedRecord {
    if (this.#size === 0) return sealer.openSync(value, name, now);
    const key = name + "=" + value;
    const hit = this.#entries.get(key);
    if (hit) {
      assertUnexpired(hit, now);
      const { data, flash } = decodeBody(hit.body)!;
      return { ...hit, data, flash };
    }
    const record = sealer.openSync(value, name, now);
    // Map keeps insertion order: the first key is the oldest.
    if (this.#entries.size >= this.#size) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { ...record, data: {}, flash: undefined });
    return record;
  }
}
