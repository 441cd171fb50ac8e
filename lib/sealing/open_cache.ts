/**
 * A bounded cache of opened cookies, keyed by cookie name and exact value. A browser sends the
 * same cookie on every request until it changes, so a hit skips the decryption; the data is kept
 * only as the sealed JSON text, which the sealer parses afresh on each hit, and checks the
 * deadlines of a hit as of a fresh open, so a hit answers exactly as a fresh open would.
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

import type { OpenedRecord } from "./sealer.ts";

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
 * @example Opening the same cookie three times
 * ```ts
 * import assert from "node:assert/strict";
 * import { OpenCache } from "./open_cache.ts";
 *
 * const record = {
 *   id: new Uint8Array(16), issuedAt: 1, startedAt: 1, expiresAt: 2, idleExpiresAt: 0,
 *   data: { name: "Ada" }, flash: undefined, persistent: true, sealedAt: 1, keyIndex: 0,
 *   body: '{"name":"Ada"}',
 * };
 * const cache = new OpenCache(100);
 * const value = "AQAAAAB" + "x".repeat(150); // a sealed value, as far as the cache cares
 * assert.equal(cache.get(value, "session"), undefined);
 * cache.admit(value, "session", record); // first sight: only remembered
 * assert.equal(cache.get(value, "session"), undefined);
 * cache.admit(value, "session", record); // second: kept
 * assert.equal(cache.get(value, "session")?.body, '{"name":"Ada"}');
 * assert.equal(cache.get(value, "other"), undefined);
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
   * What a value opened to before. Its data is not kept: the caller parses `body` afresh, so
   * that each request gets its own copy. Never to be changed.
   *
   * @param value The cookie value.
   * @param name The cookie name it came in.
   * @returns The record without its data, or undefined when not cached.
   */
  get(value: string, name: string): Readonly<OpenedRecord> | undefined {
    if (this.#size === 0) return undefined;
    const hit = this.#entries.get(value);
    return hit && hit.name === name ? hit : undefined;
  }

  /**
   * Remembers a value that opened: kept when seen a second time within a while.
   *
   * @param value The cookie value.
   * @param name The cookie name it came in.
   * @param record What it opened to.
   */
  admit(value: string, name: string, record: OpenedRecord): void {
    if (this.#size === 0) return;
    const print = fingerprint(value);
    const slot = print & this.#seenMask;
    if (this.#seen[slot] !== print) {
      // First sight (or forgotten): remember it, keep nothing else.
      this.#seen[slot] = print;
      return;
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
      handle: record.handle,
      keyIndex: record.keyIndex,
      body: record.body,
      name,
    });
  }
}
