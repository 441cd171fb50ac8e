/**
 * A bounded cache of opened cookies, keyed by cookie name and exact value. A browser sends the
 * same cookie on every request until it changes, so a hit skips the decryption; the data is kept
 * only as the sealed JSON text and parsed afresh on each hit, and expiry is checked every time,
 * so a hit answers exactly as a fresh open would.
 *
 * Admission is on second sight: a value is cached only when it opens a second time within a
 * while. With many visitors, most values on an isolate are seen once (or once per long
 * interval); caching each on first sight would evict useful entries for ones never asked for
 * again, and every entry lives long enough to be promoted to the old generation before it is
 * evicted, which costs the garbage collector more than the decryption it saves. A small table
 * of fingerprints (no allocation per request) remembers what was opened recently.
 *
 * @module
 */

import { decodeBody } from "./body.ts";
import { andThen, fail } from "./maybe_promise.ts";
import { assertUnexpired, type OpenedRecord, type Sealer } from "./seal.ts";

/** What a hit needs: the record without its parsed data, and the cookie name it opened under. */
type Entry = OpenedRecord & { name: string };

/** Fingerprint slots per cache entry: the doorkeeper remembers a few times more than it keeps. */
const SEEN_PER_ENTRY = 4;

/**
 * A fingerprint of a sealed cookie value, read from characters that encode the random nonce
 * (after the version and key id). Only values that opened are fingerprinted, and their nonces
 * are the server's own random bytes, so fingerprints spread evenly; a collision only admits a
 * value one request early. Never 0, the table's "empty".
 */
function fingerprint(value: string): number {
  let h = 0x811c9dc5;
  const end = Math.min(value.length, 19);
  for (let i = 7; i < end; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
  return (h >>> 0) || 1;
}

/**
 * Opened cookies, admitted on their second open, oldest evicted first.
 *
 * @example Opening the same cookie twice
 * ```ts
 * import assert from "node:assert/strict";
 * import { OpenCache } from "./open_cache.ts";
 * import { createSealer } from "./seal.ts";
 *
 * const sealer = await createSealer({
 *   secrets: ["a secret of at least thirty-two bytes!"],
 *   backend: "node",
 * });
 * const now = Math.floor(Date.now() / 1000);
 * const value = await sealer.seal({
 *   id: new Uint8Array(16),
 *   issuedAt: now,
 *   expiresAt: now + 60,
 *   idleExpiresAt: 0,
 *   data: { name: "Ada" },
 * }, "session");
 * const cache = new OpenCache(100);
 * for (const step of ["opened", "admitted", "a hit"]) {
 *   const record = cache.open(sealer, value, "session", now);
 *   assert.ok(!(record instanceof Promise), step); // node:crypto answers at once
 *   assert.equal(record.data.name, "Ada");
 * }
 * ```
 */
export class OpenCache {
  readonly #size: number;
  readonly #entries = new Map<string, Entry>();
  readonly #seen: Uint32Array;
  readonly #seenMask: number;

  /** @param size Most entries kept; 0 turns the cache off. */
  constructor(size: number) {
    this.#size = size;
    let slots = 1;
    while (size > 0 && slots < size * SEEN_PER_ENTRY) slots *= 2;
    this.#seen = new Uint32Array(size > 0 ? Math.max(slots, 64) : 0);
    this.#seenMask = this.#seen.length - 1;
  }

  /**
   * Opens a cookie value, from the cache when it was opened before. A hit answers at once on
   * every backend (Web Crypto included: no asynchronous step at all); a miss answers as the
   * sealer does, at once over `node:crypto`, else with a promise.
   *
   * @param sealer The sealer.
   * @param value The cookie value.
   * @param name The cookie name it came in.
   * @param now Current Unix time in seconds.
   * @returns The record, with its own copy of the data.
   * @throws {InvalidSessionError} As {@linkcode Sealer.open} (a rejection where the sealer
   * answers with promises); failures are never cached.
   */
  open(
    sealer: Sealer,
    value: string,
    name: string,
    now: number,
  ): OpenedRecord | Promise<OpenedRecord> {
    if (this.#size === 0) return sealer.open(value, name, now);
    let hit: OpenedRecord | undefined;
    try {
      hit = this.#hit(value, name, now);
    } catch (error) {
      return fail(sealer.sync, error);
    }
    return hit ??
      andThen(sealer.open(value, name, now), (record) => this.#admit(value, name, record));
  }

  #hit(value: string, name: string, now: number): OpenedRecord | undefined {
    const hit = this.#entries.get(value);
    if (!hit || hit.name !== name) return undefined;
    assertUnexpired(hit, now);
    const { data, flash } = decodeBody(hit.body)!;
    return {
      id: hit.id,
      issuedAt: hit.issuedAt,
      startedAt: hit.startedAt,
      expiresAt: hit.expiresAt,
      idleExpiresAt: hit.idleExpiresAt,
      data,
      flash,
      persistent: hit.persistent,
      sealedAt: hit.sealedAt,
      subject: hit.subject,
      keyIndex: hit.keyIndex,
      body: hit.body,
    };
  }

  #admit(value: string, name: string, record: OpenedRecord): OpenedRecord {
    const print = fingerprint(value);
    const slot = print & this.#seenMask;
    if (this.#seen[slot] !== print) {
      // First sight (or forgotten): remember it, keep nothing else.
      this.#seen[slot] = print;
      return record;
    }
    // Map keeps insertion order: the first key is the oldest.
    if (this.#entries.size >= this.#size) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(value, {
      id: record.id,
      issuedAt: record.issuedAt,
      startedAt: record.startedAt,
      expiresAt: record.expiresAt,
      idleExpiresAt: record.idleExpiresAt,
      data: {},
      flash: undefined,
      persistent: record.persistent,
      sealedAt: record.sealedAt,
      subject: record.subject,
      keyIndex: record.keyIndex,
      body: record.body,
      name,
    });
    return record;
  }
}
