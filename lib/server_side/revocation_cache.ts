/**
 * The per-process cache in front of a shared revocation list (Deno KV, Redis): answers are
 * reused for `cacheMs`, and what this process learns itself (a revocation, a cut-off) applies at
 * once and is never undone by a read of the shared list: not by one already in flight, nor by
 * a later one answered from a replica that has not caught up yet (eventually consistent reads).
 *
 * @module
 */

import { SessionConfigError } from "../common/errors.ts";
import { cutOff } from "../sealing/lifetime.ts";

/** Options of {@linkcode RevocationCache}. */
export interface RevocationCacheOptions {
  /**
   * How long, in milliseconds, an answer from the shared list is reused.
   * @default {1000}
   */
  cacheMs?: number;
  /**
   * Most answers kept of each kind: session ids read, subjects' cut-offs read, and the
   * revocations and cut-offs this process made (which reads never push out).
   * @default {10000}
   */
  cacheSize?: number;
  /**
   * Clock in milliseconds, for tests.
   * @default {Date.now}
   */
  now?: () => number;
}

/** A fact read from the shared list, with when its read began and the sequence it is ordered by. */
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
  /**
   * The cut-off in Unix seconds, with a fraction (0 for none): sessions started up to it are
   * refused.
   */
  before: number;
  /** The session's subject's own cut-off, likewise (0 for none; absent without a subject). */
  subjectBefore?: number;
  /** The session's handle was ended (absent without a handle). */
  handleRevoked?: boolean;
}

/** The scope of the cut-off that applies to every session. */
const EVERYONE = "";

/**
 * The local cache of a revocation list. A read of the shared list is ordered by the moment it
 * *started*: an answer read later wins over an older one, and a fact this process learnt itself
 * (a revocation, a cut-off) wins over every read. Each kind is bounded by `cacheSize`, oldest
 * first: answers read make room among themselves, so no number of reads pushes out a fact
 * learnt here; only as many newer ones do (and the shared list has it).
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
  /** Answers read, by session id. */
  readonly #ids = new Map<string, Fact<boolean>>();
  /** The session ids this process revoked itself. */
  readonly #revokedHere = new Map<string, true>();
  /** Cut-offs as last read, by scope: everyone (""), or a subject (`s:` and its name). */
  readonly #cutoffs = new Map<string, Fact<number>>();
  /** The highest cut-off this process set itself, by scope: no read moves one below it. */
  readonly #localCutoffs = new Map<string, number>();
  /**
   * When this process last wrote down a session's use, in a fixed table of slots by a hash of
   * its handle (a fingerprint, and the time): no allocation per request, and room for many
   * times `cacheSize` sessions. A slot two sessions share only costs a write more.
   */
  readonly #seenPrints: Uint32Array;
  readonly #seenAt: Float64Array;
  /** Counts the facts learnt here: a read is ordered by the count when it began. */
  #seq = 0;
  /**
   * The count when a fact learnt here was last forgotten to make room: a read begun before
   * may have missed it, so its answer is used once but not kept.
   */
  #forgotten = 0;

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
    let slots = 1 << 16;
    while (slots < 8 * this.#cacheSize) slots *= 2;
    this.#seenPrints = new Uint32Array(slots);
    this.#seenAt = new Float64Array(slots);
  }

  /**
   * The cached answer for a session, when it and the cut-offs that apply are all fresh.
   *
   * @param key The session id, as the list keys it.
   * @param startedAt When the session started, Unix seconds (with a fraction).
   * @param subject Whom it belongs to, if anyone.
   * @param handle Its handle in its subject's list, if any.
   * @returns True when revoked, false when not, undefined when the shared list must be read.
   */
  cached(key: string, startedAt: number, subject?: string, handle?: string): boolean | undefined {
    if (this.#revokedHere.has(key)) return true;
    if (handle !== undefined && this.#revokedHere.has(handleKey(handle))) return true;
    const id = this.#fresh(this.#ids.get(key));
    const everyone = this.#fresh(this.#cutoffs.get(EVERYONE));
    if (id === undefined || everyone === undefined) return undefined;
    let before = everyone.value;
    if (subject !== undefined) {
      const own = this.#fresh(this.#cutoffs.get(scope(subject)));
      if (own === undefined) return undefined;
      before = Math.max(before, own.value);
    }
    return id.value || cutOff(startedAt, before);
  }

  #fresh<T>(fact: Fact<T> | undefined): Fact<T> | undefined {
    return fact !== undefined && this.#now() - fact.at < this.#cacheMs ? fact : undefined;
  }

  /**
   * Marks the start of a read of the shared list, for {@linkcode settle}. A read that fails
   * needs nothing more.
   *
   * @returns The read; its answer counts as of its start (so `cacheMs` is never stretched by
   *   the read's own latency).
   */
  begin(): RevocationRead {
    return { seq: this.#seq, at: this.#now() };
  }

  /**
   * Ends a read with what it found; keeps it unless this process learnt something newer, or
   * made the revocation itself (a replica that is behind may not have it yet).
   *
   * @param read The read from {@linkcode begin}.
   * @param key The session id, as the list keys it.
   * @param answer What the shared list said.
   * @param startedAt When the session started, Unix seconds (with a fraction).
   * @param subject Whom it belongs to, if anyone (then `answer.subjectBefore` is its cut-off).
   * @param handle Its handle in its subject's list, if any (then `answer.handleRevoked` says
   *   whether it was ended).
   * @returns True when the session is revoked.
   */
  settle(
    read: RevocationRead,
    key: string,
    answer: RevocationAnswer,
    startedAt: number,
    subject?: string,
    handle?: string,
  ): boolean {
    const current = this.#ids.get(key);
    // A session's handle never changes: whether it was ended is kept with its id.
    const found = answer.revoked || answer.handleRevoked === true;
    let revoked = found || this.#revokedHere.has(key) ||
      (handle !== undefined && this.#revokedHere.has(handleKey(handle)));
    if (current !== undefined && current.seq > read.seq) revoked ||= current.value;
    else if (read.seq >= this.#forgotten) {
      this.#remember(this.#ids, key, { value: found, at: read.at, seq: read.seq });
    }
    let before = this.#settleCutoff(read, EVERYONE, answer.before);
    if (subject !== undefined) {
      before = Math.max(
        before,
        this.#settleCutoff(read, scope(subject), answer.subjectBefore ?? 0),
      );
    }
    return revoked || cutOff(startedAt, before);
  }

  /** A cut-off as read, raised to what this process knows is newer, and kept. */
  #settleCutoff(read: RevocationRead, scope: string, found: number): number {
    let before = Math.max(found, this.#localCutoffs.get(scope) ?? 0);
    const current = this.#cutoffs.get(scope);
    if (current !== undefined && current.seq > read.seq) before = Math.max(before, current.value);
    else if (read.seq >= this.#forgotten) {
      this.#remember(this.#cutoffs, scope, { value: before, at: read.at, seq: read.seq });
    }
    return before;
  }

  /**
   * Records a revocation this process made (after the shared list accepted it).
   *
   * @param key The session id, as the list keys it.
   */
  revoked(key: string): void {
    this.#seq++;
    if (keep(this.#revokedHere, key, true, this.#cacheSize)) this.#forgotten = this.#seq;
  }

  /**
   * Records that this process ended a session by its handle (after the shared list accepted
   * it): every id carrying that handle is refused here at once.
   *
   * @param handle The session's handle.
   */
  ended(handle: string): void {
    this.revoked(handleKey(handle));
  }

  /**
   * Whether a session's use is worth writing down as its "last seen": true, and remembered, when
   * this process has not written it within `intervalMs`; false otherwise. Bounded like the rest.
   *
   * @param handle The session's handle.
   * @param intervalMs The interval, in milliseconds.
   * @returns True when it is due.
   */
  seenDue(handle: string, intervalMs: number): boolean {
    const now = this.#now();
    const print = fingerprint(handle);
    const slot = this.#seenSlot(print);
    if (this.#seenPrints[slot] === print && now - this.#seenAt[slot]! < intervalMs) return false;
    this.#seenPrints[slot] = print;
    this.#seenAt[slot] = now;
    return true;
  }

  /**
   * Records that a session's use was written down now (a login records it with the session).
   *
   * @param handle The session's handle.
   */
  seen(handle: string): void {
    const print = fingerprint(handle);
    const slot = this.#seenSlot(print);
    this.#seenPrints[slot] = print;
    this.#seenAt[slot] = this.#now();
  }

  /** A handle's slot: of the two its hash names, the one it holds, else an empty or the older one. */
  #seenSlot(print: number): number {
    const prints = this.#seenPrints;
    const first = print & (prints.length - 1);
    const second = first ^ 1;
    if (prints[first] === print || prints[first] === 0) return first;
    if (prints[second] === print || prints[second] === 0) return second;
    return this.#seenAt[first]! <= this.#seenAt[second]! ? first : second;
  }

  /**
   * Records a cut-off this process set (after the shared list accepted it); it never moves back.
   *
   * @param before The cut-off, Unix seconds (with a fraction).
   * @param subject Whose cut-off it is; everyone's when left out.
   */
  cutoff(before: number, subject?: string): void {
    const key = subject === undefined ? EVERYONE : scope(subject);
    const local = Math.max(before, this.#localCutoffs.get(key) ?? 0);
    this.#seq++;
    if (keep(this.#localCutoffs, key, local, this.#cacheSize)) this.#forgotten = this.#seq;
    const value = Math.max(local, this.#cutoffs.get(key)?.value ?? 0);
    this.#remember(this.#cutoffs, key, { value, at: this.#now(), seq: this.#seq });
  }

  #remember<T>(facts: Map<string, Fact<T>>, key: string, fact: Fact<T>): void {
    keep(facts, key, fact, this.#cacheSize);
  }
}

/**
 * Keeps a fact as the newest of its map, making room by forgetting the oldest one; everyone's
 * cut-off is never forgotten (and not counted against the size).
 *
 * @returns True when another fact was forgotten.
 */
function keep<T>(facts: Map<string, T>, key: string, value: T, size: number): boolean {
  facts.delete(key);
  let forgot = false;
  if (key !== EVERYONE && facts.size - (facts.has(EVERYONE) ? 1 : 0) >= size) {
    for (const oldest of facts.keys()) {
      if (oldest !== EVERYONE) {
        forgot = facts.delete(oldest);
        break;
      }
    }
  }
  facts.set(key, value);
  return forgot;
}

/** A 32-bit hash of a handle (FNV-1a), never 0: the seen table's "empty". */
function fingerprint(handle: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < handle.length; i++) h = Math.imul(h ^ handle.charCodeAt(i), 0x01000193);
  return (h >>> 0) || 1;
}

/** The cache's key of a session ended by its handle. */
function handleKey(handle: string): string {
  return `h:${handle}`;
}

/** The cache's scope of a subject's cut-off. */
function scope(subject: string): string {
  return `s:${subject}`;
}
