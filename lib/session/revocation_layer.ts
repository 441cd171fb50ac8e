/**
 * The revocation layer: wraps any mode so that a session refused by the revocation list is
 * empty, and the ids a request ends (`destroy()`, `regenerate()`, a new session over an old
 * one) are revoked, so that copies of their cookies stop working too.
 *
 * @module
 */

import { InvalidSessionError } from "./errors.ts";
import { loadNow, type Mode, NOTHING, renewedOver } from "./mode.ts";
import type { SessionRevocation } from "./server_side.ts";

/**
 * Wraps a mode with a revocation list. The cookie is then opened before the handler runs: the
 * check is asynchronous.
 *
 * @param inner The mode wrapped.
 * @param revocation The list, already guarded for outages.
 * @returns The mode.
 */
export function withRevocation(inner: Mode, revocation: SessionRevocation): Mode {
  return {
    async load(visit) {
      const record = await loadNow(inner, visit);
      if (!record) return NOTHING;
      if (await revocation.isRevoked(record.id, record.startedAt, record.subject)) {
        visit.reject(new InvalidSessionError("revoked"));
        return NOTHING;
      }
      return () => record;
    },
    fits: inner.fits,
    unchanged: (visit) => inner.unchanged(visit),
    async remove(visit, decision, loaded) {
      if (loaded) await revocation.revoke(loaded.id, loaded.expiresAt);
      return await inner.remove(visit, decision, loaded);
    },
    async write(visit, decision, loaded) {
      if (renewedOver(loaded, decision.record)) {
        await revocation.revoke(loaded!.id, loaded!.expiresAt);
      }
      return await inner.write(visit, decision, loaded);
    },
  };
}
