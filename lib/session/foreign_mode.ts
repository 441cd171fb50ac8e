/**
 * What the middleware does with a foreign session (another framework's cookie, behind the
 * seam of `foreign.ts`): keep the session in it (`shared`, a base mode of its own), or move it
 * once into a new sealed session (`migrate`, a step before the handler).
 *
 * @module
 */

import { encodeBody } from "./body.ts";
import { utf8Length } from "./bytes.ts";
import { InvalidSessionError } from "./errors.ts";
import type { ForeignSession, ForeignSessionData } from "./foreign.ts";
import type { SessionRevocation } from "./server_side.ts";
import { type Mode, NOTHING } from "./mode.ts";
import { type OpenedRecord, SESSION_ID_LENGTH } from "./seal.ts";
import type { Session, SessionData, SessionDecision } from "./session.ts";
import type { Visit } from "./visit.ts";

/** The clock and lifetime the foreign modes need. */
export interface ForeignTiming {
  /** Current time in milliseconds. */
  now(): number;
  /** The sealed session lifetime, in seconds. */
  maxAge: number;
}

/**
 * A foreign cookie shared with another app: the session is read from and written to it; no
 * sealed cookie is used.
 *
 * @param foreign The foreign session.
 * @param timing Clock and lifetime.
 * @returns The mode.
 */
export function sharedMode(foreign: ForeignSession, timing: ForeignTiming): Mode {
  return {
    load(visit) {
      const value = visit.foreignValue;
      if (value === undefined) return NOTHING;
      return foreign.read(value, timing.now()).then((session) => {
        if (!session) {
          visit.reject(refused());
          return NOTHING;
        }
        const record = foreignRecord(session, timing.now() / 1000, timing.maxAge);
        return () => record;
      });
    },
    unchanged: () => [],
    remove: () => Promise.resolve([foreign.clear()]),
    async write(_visit, decision) {
      return [await foreign.write(decision.record, timing.now())];
    },
  };
}

/** The migration step: moves a foreign session into the request's new sealed session. */
export interface Migration {
  /**
   * Before the handler: a request with no sealed session gets the foreign cookie's data. A
   * foreign cookie too large for the sealed session is refused as malformed, not thrown over.
   *
   * @returns The foreign session moved in, if one was.
   */
  load<Data extends SessionData>(
    visit: Visit,
    current: Session<Data>,
  ): Promise<ForeignSessionData | undefined>;
  /**
   * After it: remembers the foreign cookie moved in as used, and returns the `Set-Cookie`
   * headers that expire the foreign cookie, if any.
   */
  commit(
    visit: Visit,
    decision: SessionDecision,
    migrated: ForeignSessionData | undefined,
  ): Promise<string[]>;
}

/**
 * Migrating from a foreign cookie: a request with no sealed session but a valid foreign cookie
 * starts a new sealed session with its data, and the foreign cookie is expired. With a
 * revocation list, a foreign cookie is moved in once: its copies are refused afterwards, and
 * so is one written before the list's cut-off (a copy kept from before a logout everywhere).
 *
 * @param foreign The foreign session.
 * @param timing Clock and lifetime.
 * @param revocation The revocation list (guarded for outages), if any.
 * @returns The step.
 */
export function migration(
  foreign: ForeignSession,
  timing: ForeignTiming,
  revocation: SessionRevocation | undefined,
): Migration {
  return {
    async load(visit, current) {
      if (visit.foreignValue === undefined || visit.value !== undefined) return undefined;
      const session = await foreign.read(visit.foreignValue, timing.now());
      if (!session) return visit.reject(refused());
      try {
        visit.fits(utf8Length(encodeBody(session.data)), 0);
      } catch (error) {
        // Too large to seal: refused like a malformed cookie, or no request could get past it.
        return visit.reject(new InvalidSessionError("malformed", { cause: error }));
      }
      const { id, issuedAt } = session;
      if (revocation && id && issuedAt !== undefined) {
        if (await revocation.isRevoked(id, issuedAt)) {
          return visit.reject(new InvalidSessionError("revoked", { cause: refused().cause }));
        }
      }
      for (const [k, v] of Object.entries(session.data)) current.set(k as never, v as never);
      current.persistent = session.persistent !== false;
      return session;
    },
    async commit(visit, decision, migrated) {
      if (revocation && migrated?.id) {
        const expiresAt = migrated.expiresAt ?? Math.floor(timing.now() / 1000) + timing.maxAge;
        await revocation.revoke(migrated.id, expiresAt);
      }
      // A foreign cookie the request carried is expired by every response that uses the
      // session, however it ends (written, destroyed, or only read), so that a destroyed
      // session cannot come back from it. Not when the sealed cookie written or deleted here is
      // that very cookie: the sealed headers replace it.
      if (visit.foreignValue === undefined) return [];
      const replaced = decision.action !== "none" &&
        foreign.isCookie(visit.target.name, visit.target.attributes);
      return replaced ? [] : [foreign.clear()];
    },
  };
}

/** The error a foreign cookie that does not verify is refused with. */
function refused(): InvalidSessionError {
  return new InvalidSessionError("forged", { cause: new Error("foreign session cookie") });
}

/** A foreign session as an opened record: it has no id or deadlines of its own. */
function foreignRecord(session: ForeignSessionData, now: number, maxAge: number): OpenedRecord {
  return {
    id: crypto.getRandomValues(new Uint8Array(SESSION_ID_LENGTH)),
    issuedAt: Math.floor(now),
    startedAt: Math.floor(now),
    expiresAt: Math.floor(now) + maxAge,
    idleExpiresAt: 0,
    data: session.data,
    flash: session.flash,
    persistent: session.persistent !== false,
    sealedAt: undefined,
    keyIndex: 0,
    body: encodeBody(session.data, session.flash),
  };
}
