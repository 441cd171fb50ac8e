/**
 * The store layer: wraps a mode so that the session's data lives in a server-side store and
 * the cookie holds only the sealed session id (re-sealed only when the id or its deadlines
 * change). The stored data is loaded before the handler runs.
 *
 * @module
 */

import { decodeBody } from "./body.ts";
import { InvalidSessionError } from "./errors.ts";
import { type GuardedStore, UNAVAILABLE } from "./outage.ts";
import { loadNow, type Mode, NOTHING, renewedOver } from "./mode.ts";
import type { OpenedRecord } from "./seal.ts";
import type { StoredSession } from "./server_side.ts";

/** A record loaded from the store, with the version its save must still find. */
type StoredRecord = OpenedRecord & { stored?: StoredSession };

/**
 * Wraps a mode with a server-side store.
 *
 * @param inner The mode wrapped (it keeps the cookie).
 * @param store The store, already guarded for outages.
 * @returns The mode.
 */
export function withStore(inner: Mode, store: GuardedStore): Mode {
  return {
    async load(visit) {
      const record = await loadNow(inner, visit);
      if (!record) return NOTHING;
      const answer = await store.load(record.id);
      if (answer === UNAVAILABLE) {
        visit.unloaded = record;
        return NOTHING;
      }
      const parsed = answer && decodeBody(answer.body);
      if (!parsed) {
        visit.reject(new InvalidSessionError("expired", { cause: new Error("not in store") }));
        return NOTHING;
      }
      const loaded: StoredRecord = {
        ...record,
        data: parsed.data,
        flash: parsed.flash,
        body: answer.body,
        stored: answer,
      };
      return () => loaded;
    },
    // The cookie holds only the id (and the subject): the store's own limit is the one to check.
    fits: store.assertFits && ((_visit, bodyBytes) => store.assertFits!(bodyBytes)),
    unchanged: (visit) => inner.unchanged(visit),
    async remove(visit, decision, loaded) {
      const headers = await inner.remove(visit, decision, loaded);
      if (loaded) await store.delete(loaded.id);
      return headers;
    },
    async write(visit, decision, loaded: StoredRecord | undefined) {
      // The store is down and this request saw an empty session: writing would replace the
      // visitor's session with whatever this request set. Only an explicit destroy() goes on.
      if (visit.unloaded) return undefined;
      const { record } = decision;
      const renewed = renewedOver(loaded, record);
      if (decision.dataChanged || renewed) {
        const expected = renewed ? undefined : loaded?.stored;
        // Not saved (failing open): keep the cookie pointing at the data still stored.
        if (!await store.save(record.id, decision.body, record.expiresAt, expected)) {
          return undefined;
        }
      }
      if (renewed) await store.delete(loaded!.id);
      // The cookie holds only the sealed id; it changes only with the id or the deadlines.
      if (!decision.cookieDue) return [];
      const idOnly = { ...record, data: {}, flash: undefined };
      return await inner.write(visit, { ...decision, record: idOnly, body: "{}" }, loaded);
    },
  };
}
