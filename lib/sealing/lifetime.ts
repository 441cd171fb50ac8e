/**
 * Every rule of time a session follows, in one place: its sealed deadlines, the configured
 * `maxAge` and idle timeout (which hold for sessions already issued), when the idle deadline
 * moves, the issue times of a new session, and cut-offs. Times are Unix seconds (with a fraction
 * where a millisecond matters); every other module asks here.
 *
 * @module
 */

import { InvalidSessionError } from "../common/errors.ts";

/**
 * Seconds by which instances' clocks may differ: an idle deadline that far beyond the current
 * window is not taken for one sealed under a longer timeout.
 */
export const CLOCK_SKEW = 60;

/** Longest lifetime accepted, in seconds: browsers cap a cookie's Max-Age at 400 days. */
export const MAX_AGE_LIMIT = 400 * 24 * 60 * 60;

/** Latest time a sealed value can hold: times are unsigned 32-bit Unix seconds (year 2106). */
export const MAX_SEALED_TIME = 0xffff_ffff;

/** The configured lifetimes, in seconds. */
export interface Lifetimes {
  /** Absolute lifetime from issue. */
  maxAge: number;
  /** Absolute lifetime from issue of a persistent ("remembered") session; `maxAge` when absent. */
  persistentMaxAge?: number | undefined;
  /** Idle timeout; undefined for none. */
  idleTimeout: number | undefined;
  /** Fraction of the idle window that must pass before the deadline is pushed back. */
  idleRefreshAfter: number;
}

/** The instants a sealed record carries, as far as its lifetime goes. */
export interface SealedTimes {
  /** When its id was issued, to the millisecond. */
  issuedAt: number;
  /** End of its absolute lifetime. */
  expiresAt: number;
  /** Its idle deadline; 0 for none. */
  idleExpiresAt: number;
  /** When it was sealed; undefined for a value sealed before the time was recorded. */
  sealedAt?: number | undefined;
  /** Whether it is persistent (remembered); such a session may have a longer lifetime. */
  persistent?: boolean | undefined;
}

/**
 * The absolute lifetime of a session, persistent (remembered) or not.
 *
 * @param persistent Whether the session is persistent.
 * @param lifetimes The configured lifetimes.
 * @returns Seconds from its issue.
 *
 * @example "Remember me for 30 days, else a day"
 * ```ts
 * import assert from "node:assert/strict";
 * import { lifetimeOf } from "./lifetime.ts";
 *
 * const lifetimes = { maxAge: 86400, persistentMaxAge: 30 * 86400, idleTimeout: undefined, idleRefreshAfter: 0.5 };
 * assert.equal(lifetimeOf(true, lifetimes), 30 * 86400);
 * assert.equal(lifetimeOf(false, lifetimes), 86400);
 * ```
 */
export function lifetimeOf(persistent: boolean, lifetimes: Lifetimes): number {
  return persistent ? lifetimes.persistentMaxAge ?? lifetimes.maxAge : lifetimes.maxAge;
}

/**
 * Checks a record's sealed deadlines: the absolute lifetime and the idle deadline it carries.
 *
 * @param record Its sealed instants (`idleExpiresAt` 0: none).
 * @param now Current Unix time in seconds.
 * @throws {InvalidSessionError} With reason `expired` when either has passed.
 *
 * @example Accepting a live record and refusing an expired one
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertUnexpired } from "./lifetime.ts";
 * import { InvalidSessionError } from "../common/errors.ts";
 *
 * assertUnexpired({ expiresAt: 2_000_000_000, idleExpiresAt: 0 }, 1_900_000_000);
 * assert.throws(
 *   () => assertUnexpired({ expiresAt: 2_000_000_000, idleExpiresAt: 1_900_000_000 }, 1_950_000_000),
 *   (error) => error instanceof InvalidSessionError && error.reason === "expired",
 * );
 * ```
 */
export function assertUnexpired(
  record: { expiresAt: number; idleExpiresAt: number },
  now: number,
): void {
  const { expiresAt, idleExpiresAt } = record;
  if (now >= expiresAt || (idleExpiresAt !== 0 && now >= idleExpiresAt)) {
    throw new InvalidSessionError("expired", {
      cause: new Error(`expired at ${Math.min(expiresAt, idleExpiresAt || expiresAt)}`),
    });
  }
}

/**
 * Whether a record within its sealed deadlines is past the configured ones: a lifetime shortened
 * since it was issued, or an idle timeout, counted from when it was sealed, whatever deadline it
 * carries (so it holds for every copy of the cookie). A value sealed before the sealing time was
 * recorded is trusted only while its own idle deadline lies within the current timeout; else its
 * last use is unknown, and it is held to the timeout from its issue. Another instance, configured
 * otherwise, may still serve such a record: its cookie is kept.
 *
 * @param record Its sealed instants.
 * @param now Current Unix time in seconds.
 * @param lifetimes The configured lifetimes.
 * @returns True when the configuration refuses it.
 *
 * @example A session idle longer than the current timeout
 * ```ts
 * import assert from "node:assert/strict";
 * import { outlived } from "./lifetime.ts";
 *
 * const lifetimes = { maxAge: 3600, idleTimeout: 600, idleRefreshAfter: 0.5 };
 * const record = { issuedAt: 1000, expiresAt: 4600, idleExpiresAt: 1600, sealedAt: 1000 };
 * assert.equal(outlived(record, 1500, lifetimes), false);
 * assert.equal(outlived(record, 1600, lifetimes), true);
 * ```
 */
export function outlived(record: SealedTimes, now: number, lifetimes: Lifetimes): boolean {
  if (now >= record.issuedAt + lifetimeOf(record.persistent !== false, lifetimes)) return true;
  const timeout = lifetimes.idleTimeout;
  if (timeout === undefined) return false;
  if (record.sealedAt !== undefined) return now >= record.sealedAt + timeout;
  const { idleExpiresAt } = record;
  if (idleExpiresAt !== 0 && idleExpiresAt <= now + timeout + CLOCK_SKEW) return false;
  return now >= Math.floor(record.issuedAt) + timeout;
}

/**
 * The instants of a session issued now: its issue time, to the millisecond, and the end of its
 * absolute lifetime (never past what a sealed value can hold).
 *
 * @param nowMs Current Unix time in milliseconds.
 * @param maxAge The absolute lifetime, in seconds.
 * @param after Cut-offs this request set, Unix milliseconds: the session is issued after each.
 * @returns The issue time and expiry, in seconds.
 *
 * @example A session issued after a sign-out of the same millisecond
 * ```ts
 * import assert from "node:assert/strict";
 * import { issue } from "./lifetime.ts";
 *
 * assert.deepEqual(issue(1_000_000_000_500, 60, [1_000_000_000_500]), {
 *   issuedAt: 1_000_000_000.501,
 *   expiresAt: 1_000_000_060,
 * });
 * ```
 */
export function issue(
  nowMs: number,
  maxAge: number,
  after: readonly number[] = [],
): { issuedAt: number; expiresAt: number } {
  let ms = Math.floor(nowMs);
  for (const cutoff of after) ms = Math.max(ms, cutoff + 1);
  const issuedAt = ms / 1000;
  return { issuedAt, expiresAt: Math.min(Math.floor(issuedAt) + maxAge, MAX_SEALED_TIME) };
}

/**
 * The idle deadline to seal now: the timeout from now, never past the absolute expiry.
 *
 * @param now Current Unix time in seconds.
 * @param idleTimeout The configured timeout; undefined for none.
 * @param expiresAt The session's absolute expiry.
 * @returns The deadline, or 0 for none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { idleDeadline } from "./lifetime.ts";
 *
 * assert.equal(idleDeadline(1000, 600, 5000), 1600);
 * assert.equal(idleDeadline(1000, 600, 1200), 1200);
 * assert.equal(idleDeadline(1000, undefined, 5000), 0);
 * ```
 */
export function idleDeadline(
  now: number,
  idleTimeout: number | undefined,
  expiresAt: number,
): number {
  return idleTimeout === undefined ? 0 : Math.min(now + idleTimeout, expiresAt);
}

/**
 * Whether an opened cookie must be sealed again for its idle deadline alone: the deadline is due
 * to move (enough of the window passed, and it can still move before the absolute expiry), it
 * was sealed with none or a longer one before this timeout was configured (its last use is
 * unknown, so this use starts its clock), or the timeout was turned off and it carries one.
 *
 * @param opened The sealed deadlines.
 * @param now Current Unix time in seconds.
 * @param lifetimes The configured lifetimes.
 * @returns True when the cookie is due.
 *
 * @example Past half the window
 * ```ts
 * import assert from "node:assert/strict";
 * import { idleRefreshDue } from "./lifetime.ts";
 *
 * const lifetimes = { maxAge: 3600, idleTimeout: 600, idleRefreshAfter: 0.5 };
 * const opened = { expiresAt: 4600, idleExpiresAt: 1600 };
 * assert.equal(idleRefreshDue(opened, 1200, lifetimes), false);
 * assert.equal(idleRefreshDue(opened, 1400, lifetimes), true);
 * ```
 */
export function idleRefreshDue(
  opened: { expiresAt: number; idleExpiresAt: number },
  now: number,
  lifetimes: Lifetimes,
): boolean {
  const { idleTimeout, idleRefreshAfter } = lifetimes;
  // The idle timeout was turned off: drop a deadline sealed under the earlier setting.
  if (idleTimeout === undefined) return opened.idleExpiresAt !== 0;
  if (opened.idleExpiresAt === 0 || opened.idleExpiresAt > now + idleTimeout + CLOCK_SKEW) {
    // Nothing to gain when the absolute expiry comes first anyway.
    return now + idleTimeout < opened.expiresAt;
  }
  // Due once enough of the window has passed, unless the deadline is already at the absolute
  // expiry (then it cannot move, and re-writing would only cost bytes).
  const deadline = opened.idleExpiresAt;
  return deadline - now < idleTimeout * (1 - idleRefreshAfter) &&
    Math.min(now + idleTimeout, opened.expiresAt) > deadline;
}

/**
 * The cut-off of a sign-out made now: sessions started before this millisecond end. One started
 * in it, here or on another device, is taken for a login after the sign-out.
 *
 * @param nowMs Current Unix time in milliseconds.
 * @returns The cut-off, Unix milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signOutCutoff } from "./lifetime.ts";
 *
 * assert.equal(signOutCutoff(1_000_000_000_500.7), 1_000_000_000_499);
 * ```
 */
export function signOutCutoff(nowMs: number): number {
  return Math.floor(nowMs) - 1;
}

/**
 * Whether a cut-off refuses a session: one started at or before it.
 *
 * @param startedAt When the session started, Unix seconds to the millisecond.
 * @param before The cut-off, likewise (0 for none).
 * @returns True when refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cutOff } from "./lifetime.ts";
 *
 * assert.equal(cutOff(1000.5, 1000.5), true);
 * assert.equal(cutOff(1000.501, 1000.5), false);
 * ```
 */
export function cutOff(startedAt: number, before: number): boolean {
  return startedAt <= before;
}
