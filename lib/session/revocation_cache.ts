/**
 * The per-process cache in front of a shared revocation list (Deno KV, Redis): answers are
 * reused for `cacheMs`, and what this process learns itself (a revocation, a cut-off) applies at
 * once and is never undone by a read of the shared list that was already in flight.
 *
 * @module
 */

import { SessionConfigError } from "./errors.ts";

/** Options of {@linkcode RevocationCache}. */
export interface RevocationCacheOptions {
  /**
   * How long, in milliseconds, an answer from the shared list is reused.
   * @default {1000}
   */
  cacheMs?: number;
  /**
   * Most session ids whose answer is kept.
   * @default {10000}
   */
  cacheSize?: number;
  /**
   * Clock in milliseconds, for tests.
   * @default {Date.now}
   */
  now?: () => number;
}

/** A fact with the time it was learnt and the sequence number it is ordered by. */
interface Fact<T> {
  value: T;
  at: number;
  seq: number;
}

/** A read of the shared list under way: when it started, in sequence and in time. */
export interface RevocationRead {
  readonly seq: number;
  readonly at: number;
}

/** What a read of the shared list found. */
export interface RevocationAnswer {
  /** The session id has a revocation record. */
  revoked: boolean;
  /** The cut-off in Unix seconds (0 for none): sessions issued before it are refused. */
  before: number;
}

/**
 * The local cache of a revocation list. A read of the shared list is ordered by the moment it
 * *started*: a fact this process learnt after that moment is newer, and wins over the read's
 * answer. Making room never drops a fact that a read still in flight must see.
 *
 * @example A logout made here wins over an older read
 * ```ts
 * import assert from "node:assert/strict";
 * import { RevocationCache } from "./revocation_cache.ts";
 *
 * const cache = new RevocationCache({ cacheMs: 60_000 });
 * const read = cache.begin();
 * cache.revoked("ab12");
 * // The read started before the logout and found nothing: the logout still counts.
 * assert.equal(cache.settle(read, "ab12", { revoked: false, before: 0 }, 100), true);
 * assert.equal(cache.cached("ab12", 100), true);
 * ```
 */
export class RevocationCache {
  readonly #cacheMs: number;
  readonly #cacheSize: number;
  readonly #now: () => number;
  readonly #ids = new Map<string, Fact<boolean>>();
  #cutoff: Fact<number> | undefined;
  #seq = 0;
  /** Start sequence numbers of the reads in flight, with their count. */
  readonly #inFlight = new Map<number, number>();

  /**
   * @param options Lifetime and size of the cache.
   * @throws {SessionConfigError} When an option is invalid, naming it.
   */
  constructor(options: RevocationCacheOptions = {}) {
    this.#cacheMs = options.cacheMs ?? 1000;
    this.#cacheSize = options.cacheSize ?? 10_000;
    this.#now = options.now ?? Date.now;
    if (!Number.isFinite(this.#cacheMs) || this.#cacheMs < 0) {
      throw new SessionConfigError(
        "cacheMs",
        `must be a number of milliseconds ≥ 0, received ${this.#cacheMs}`,
      );
    }
    if (!Number.isInteger(this.#cacheSize) || this.#cacheSize < 1) {
      throw new SessionConfigError(
        "cacheSize",
        `must be a whole number ≥ 1, received ${this.#cacheSize}`,
      );
    }
  }

  /**
   * The cached answer for a session, when both it and the cut-off are fresh.
   *
   * @param key The session id, as the list keys it.
   * @param issuedAt When the session was issued, Unix seconds.
   * @returns True when revoked, false when not, undefined when the shared list must be read.
   */
  cached(key: string, issuedAt: number): boolean | undefined {
    const t = this.#now();
    const id = this.#ids.get(key);
    const cutoff = this.#cutoff;
    if (id === undefined || t - id.at >= this.#cacheMs) return undefined;
    if (cutoff === undefined || t - cutoff.at >= this.#cacheMs) return undefined;
    return id.value || issuedAt < cutoff.value;
  }

  /**
   * Marks the start of a read of the shared list. Pair with {@linkcode settle} or
   * {@linkcode abandon}.
   *
   * @returns The read; its answer counts as of its start (so `cacheMs` is never stretched by
   *   the read's own latency).
   */
  begin(): RevocationRead {
    const seq = this.#seq;
    this.#inFlight.set(seq, (this.#inFlight.get(seq) ?? 0) + 1);
    return { seq, at: this.#now() };
  }

  /**
   * Ends a read that failed: nothing is learnt.
   *
   * @param read The read from {@linkcode begin}.
   */
  abandon(read: RevocationRead): void {
    const left = (this.#inFlight.get(read.seq) ?? 1) - 1;
    if (left <= 0) this.#inFlight.delete(read.seq);
    else this.#inFlight.set(read.seq, left);
  }

  /**
   * Ends a read with what it found; keeps it unless this process learnt something newer.
   *
   * @param read The read from {@linkcode begin}.
   * @param key The session id, as the list keys it.
   * @param answer What the shared list said.
   * @param issuedAt When the session was issued, Unix seconds.
   * @returns True when the session is revoked.
   */
  settle(read: RevocationRead, key: string, answer: RevocationAnswer, issuedAt: number): boolean {
    this.abandon(read);
    const { seq: started, at } = read;
    const current = this.#ids.get(key);
    let revoked = answer.revoked;
    if (current !== undefined && current.seq > started) revoked ||= current.value;
    else this.#remember(key, { value: revoked, at, seq: started });
    let before = answer.before;
    if (this.#cutoff !== undefined && this.#cutoff.seq > started) {
      before = Math.max(before, this.#cutoff.value);
    } else this.#cutoff = { value: before, at, seq: started };
    return revoked || issuedAt < before;
  }

  /**
   * Records a revocation this process made (after the shared list accepted it).
   *
   * @param key The session id, as the list keys it.
   */
  revoked(key: string): void {
    this.#remember(key, { value: true, at: this.#now(), seq: ++this.#seq });
  }

  /**
   * Records a cut-off this process set (after the shared list accepted it); it never moves back.
   *
   * @param before The cut-off, Unix seconds.
   */
  cutoff(before: number): void {
    const value = Math.max(before, this.#cutoff?.value ?? 0);
    this.#cutoff = { value, at: this.#now(), seq: ++this.#seq };
  }

  #remember(key: string, fact: Fact<boolean>): void {
    if (this.#ids.size >= this.#cacheSize && !this.#ids.has(key)) {
      // Make room, but keep what was learnt after the oldest read in flight began: that read
      // must still find it when it returns.
      let oldest = Infinity;
      for (const started of this.#inFlight.keys()) oldest = Math.min(oldest, started);
      for (const [k, f] of this.#ids) if (f.seq <= oldest) this.#ids.delete(k);
    }
    this.#ids.set(key, fact);
  }
}
