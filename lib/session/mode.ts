/**
 * How sessions are kept, as one interface: a base mode (the sealed cookie, or a shared foreign
 * cookie) and the layers that wrap it for server-side features (a revocation list, a store).
 * The middleware builds the stack once, at set-up, and drives every request through it.
 *
 * @module
 */

import { sameBytes } from "./bytes.ts";
import type { OpenedRecord, SessionRecord } from "./seal.ts";
import type { SessionDecision } from "./session.ts";
import type { Visit } from "./visit.ts";

/** What the end of a request writes: `Extract<SessionDecision, { action: "write" }>`. */
export type WriteDecision = Extract<SessionDecision, { action: "write" }>;
/** What the end of a request deletes (and whom it signs out everywhere). */
export type DeleteDecision = Extract<SessionDecision, { action: "delete" }>;

/**
 * Opens a request's session: the record, or undefined when there is none or it was refused.
 * Called when the handler first uses the session, or at once by a layer that checks it first.
 */
export type Loader = (visit: Visit) => OpenedRecord | undefined;

/**
 * One way of keeping sessions: how a request's session is loaded, and how the end of the
 * request is committed. A layer takes the mode it wraps and calls it.
 */
export interface Mode {
  /**
   * Loads the request's session. A loader returned synchronously opens the cookie lazily, when
   * the handler first uses the session; asynchronous checks load it before the handler.
   */
  load(visit: Visit): Loader | Promise<Loader>;
  /**
   * Throws `SessionTooLargeError` when a session of this size would not fit where the mode
   * keeps it; checked at each change. Absent: nothing to check before the commit.
   */
  fits?(visit: Visit, bodyBytes: number, headerBytes: number): void;
  /** The `Set-Cookie` headers of a request that leaves the session as it was. */
  unchanged(visit: Visit): string[];
  /** Deletes the session; returns the `Set-Cookie` headers. */
  remove(
    visit: Visit,
    decision: DeleteDecision,
    loaded: OpenedRecord | undefined,
  ): Promise<string[]>;
  /** Writes the session; returns the `Set-Cookie` headers, or undefined to write nothing. */
  write(
    visit: Visit,
    decision: WriteDecision,
    loaded: OpenedRecord | undefined,
  ): Promise<string[] | undefined>;
}

/** The loader of a request with no session to load. */
export const NOTHING: Loader = () => undefined;

/**
 * Loads the request's session now, whatever the mode would do lazily: for layers whose checks
 * need the opened record before the handler runs.
 *
 * @param mode The mode to load from.
 * @param visit The request's visit.
 * @returns The opened record, or undefined.
 */
export async function loadNow(mode: Mode, visit: Visit): Promise<OpenedRecord | undefined> {
  const load = await mode.load(visit);
  return load(visit);
}

/**
 * Whether the handler started a new session (`regenerate()`, or a write after `destroy()`)
 * over the one that was loaded: the old id is then ended.
 *
 * @param loaded The record the request loaded.
 * @param record The record to write.
 * @returns True when the ids differ.
 */
export function renewedOver(loaded: OpenedRecord | undefined, record: SessionRecord): boolean {
  return loaded !== undefined && !sameBytes(loaded.id, record.id);
}
