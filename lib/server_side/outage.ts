/**
 * What a server-side outage does to a request, decided once at set-up: the revocation list and
 * the store are wrapped here, so that an outage is logged, then either thrown on to
 * `app.onError` (fail closed, the default: a `SessionError` with code
 * `ERR_SESSION_STORE_UNAVAILABLE`, answer 503) or answered with what lets the request go on
 * (fail open: revocation unchecked, a store that has not loaded or saved anything).
 *
 * @module
 */

import { errorSummary, SessionError } from "../common/errors.ts";
import type { SessionRevocation, SessionStore, StoredSession } from "./contracts.ts";

/** What a guarded store's `load` answers when the store is down and the request fails open. */
export const UNAVAILABLE: unique symbol = Symbol("store unavailable");

/** A store as the store layer uses it: outages already decided. */
export interface GuardedStore {
  /** The stored session, none, or {@linkcode UNAVAILABLE} (failing open). */
  load(id: Uint8Array): Promise<StoredSession | undefined | typeof UNAVAILABLE>;
  /** True when saved, false when the store is down (failing open). */
  save(
    id: Uint8Array,
    body: string,
    expiresAt: number,
    expected?: StoredSession,
  ): Promise<boolean>;
  /** Deletes; an outage is only logged (failing open). */
  delete(id: Uint8Array): Promise<void>;
  /** The store's size check, if it has one. */
  assertFits?: SessionStore["assertFits"];
}

/** How outages are met: logged, then thrown on or answered with a fallback. */
type Guard = <T, F>(call: () => Promise<T>, fallback: F) => Promise<T | F>;

/**
 * Runs server-side calls; an outage is logged, then thrown (fail closed) or answered with the
 * fallback (fail open). Only the message is logged, with its cause's name and message: a
 * client's error may carry the command it failed on, session data included.
 */
function guard(failOpen: boolean): Guard {
  return async (call, fallback) => {
    try {
      return await call();
    } catch (error) {
      reportOutage(error, failOpen);
      return fallback;
    }
  };
}

/**
 * Logs an outage, then throws it when failing closed; anything that is not an outage is thrown
 * on as it is.
 */
function reportOutage(error: unknown, failOpen: boolean): void {
  // By code, as the store contract says: a store of the app's own may throw the base class.
  if (!(error instanceof SessionError) || error.code !== "ERR_SESSION_STORE_UNAVAILABLE") {
    throw error;
  }
  console.error(`session: ${errorSummary(error)}; failing ${failOpen ? "open" : "closed"}`);
  if (!failOpen) throw error;
}

/**
 * The revocation list as the middleware uses it.
 *
 * @param revocation The configured list.
 * @param failOpen Whether an outage lets the request go on unchecked.
 * @returns The list, its outages logged and then thrown on or passed.
 */
export function guardRevocation(
  revocation: SessionRevocation,
  failOpen: boolean,
): SessionRevocation {
  const tolerate = guard(failOpen);
  const r = revocation;
  const guarded: SessionRevocation = {
    isRevoked: (id, startedAt, subject, handle) =>
      tolerate(() => r.isRevoked(id, startedAt, subject, handle), false),
    revoke: (id, expiresAt) => tolerate(() => r.revoke(id, expiresAt), undefined),
    revokeSubject: r.revokeSubject &&
      ((subject, before) => tolerate(() => r.revokeSubject!(subject, before), undefined)),
  };
  if (!keepsSessions(r)) return guarded;
  // Failing open, the list reads as empty and ends nothing.
  return {
    ...guarded,
    addSession: (subject, entry) => tolerate(() => r.addSession!(subject, entry), undefined),
    listSessions: (subject) => tolerate(() => r.listSessions!(subject), []),
    // Best effort, whatever failOpen says: a use not written down costs the request nothing, and
    // the promise never rejects (nothing waits for it).
    seenSession: (subject, id, expiresAt) =>
      r.seenSession!(subject, id, expiresAt).catch((error) => {
        if (error instanceof SessionError && error.code === "ERR_SESSION_STORE_UNAVAILABLE") {
          reportOutage(error, true);
        } else console.error(`session: cannot note the session's use: ${errorSummary(error)}`);
      }),
    endSession: (subject, id) => tolerate(() => r.endSession!(subject, id), false),
    removeSession: (subject, id) => tolerate(() => r.removeSession!(subject, id), undefined),
  };
}

/**
 * Whether a revocation list keeps each subject's list of signed-in sessions: all of its five
 * methods, and `revokeSubject()`.
 *
 * @param revocation The list.
 * @returns True when it does.
 */
export function keepsSessions(revocation: SessionRevocation): boolean {
  return typeof revocation.revokeSubject === "function" &&
    typeof revocation.addSession === "function" &&
    typeof revocation.listSessions === "function" &&
    typeof revocation.seenSession === "function" &&
    typeof revocation.endSession === "function" &&
    typeof revocation.removeSession === "function";
}

/**
 * The store as the store layer uses it.
 *
 * @param store The configured store.
 * @param failOpen Whether an outage lets the request go on.
 * @returns The guarded store.
 */
export function guardStore(store: SessionStore, failOpen: boolean): GuardedStore {
  const tolerate = guard(failOpen);
  return {
    load: (id) => tolerate(() => store.load(id), UNAVAILABLE),
    save: (...args) => tolerate(() => store.save(...args).then(() => true), false),
    delete: (id) => tolerate(() => store.delete(id), undefined),
    assertFits: store.assertFits && ((bodyBytes) => store.assertFits!(bodyBytes)),
  };
}
