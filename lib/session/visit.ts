/**
 * One request's visit: the session cookie it carried, what became of it, and what the
 * `onInvalid` hook is owed. Made by `sealed_cookie.ts`, read by every mode and layer.
 *
 * @module
 */

import type { Context } from "hono";
import type { RequestCookies } from "./cookie.ts";
import { errorSummary, type InvalidReason, InvalidSessionError } from "./errors.ts";
import { type Loader, type Mode, NOTHING } from "./mode.ts";
import type { Settings, Target } from "./options.ts";
import type { OpenedRecord, Sealer } from "./seal.ts";
import type { SessionSource } from "./session.ts";

/** One request's session cookie and its fate: the source its {@linkcode Session} reads. */
export class Visit implements SessionSource {
  /** How the mode opens this request's session: set by the middleware once the mode loaded. */
  loader: Loader = NOTHING;
  /** The size check of the mode the session is kept in: set by the middleware with the loader. */
  sizeCheck: Mode["fits"] = undefined;
  /** The request carried a session cookie that did not open. */
  invalid = false;
  /**
   * A refused cookie is left alone unless the handler writes a new session (or destroys it):
   * one the library cannot show it wrote (garbage, forged, under a key this instance lacks:
   * another app's cookie of the same name, or another instance's), and one another instance of
   * the fleet may still open (within a longer maxAge). Only a cookie that opened and was then
   * refused (expired, revoked) is deleted when the session is used.
   */
  keepCookie = false;
  /**
   * Failing open with the store down: the session whose data could not be loaded. The cookie is
   * good (it opened, and may well be fine once the store is back), so it is kept as it is,
   * whatever the handler changes; only `destroy()` (or `clear()`) deletes it.
   */
  unloaded: OpenedRecord | undefined = undefined;
  /**
   * The hook hears of a refused cookie only when the handler uses the session, however early
   * the cookie had to be opened: an untouched session reports nothing.
   */
  #pending: InvalidReason | undefined = undefined;

  /**
   * @param c The request's context.
   * @param sealer The sealer, ready.
   * @param target The sealed cookie's name and attributes for this request.
   * @param found The sealed cookies the request carries.
   * @param value The sealed value to open; undefined when there is none to open.
   * @param foreignValue The foreign session cookie's value, when one is configured.
   * @param onInvalid The hook.
   */
  constructor(
    readonly c: Context,
    readonly sealer: Sealer,
    readonly target: Target,
    readonly found: RequestCookies,
    readonly value: string | undefined,
    readonly foreignValue: string | undefined,
    readonly onInvalid: Settings["onInvalid"],
  ) {}

  /**
   * Opens the session, as its mode loads it; then the hook hears of a refused cookie.
   *
   * @returns The opened record, or undefined.
   */
  open(): OpenedRecord | undefined {
    const record = this.loader(this);
    this.report();
    return record;
  }

  /**
   * Checks that a session of this size fits where its mode keeps it.
   *
   * @param bodyBytes UTF-8 bytes of the session's JSON body.
   * @param headerBytes Header bytes beyond the fixed fields: the subject's UTF-8, the start time.
   * @throws {SessionTooLargeError} When it does not.
   */
  fits(bodyBytes: number, headerBytes: number): void {
    this.sizeCheck?.(this, bodyBytes, headerBytes);
  }

  /**
   * Records why the request's cookie was refused.
   *
   * @param error Why: an {@linkcode InvalidSessionError}, anything else counts as malformed.
   * @param keep Leave the cookie in the browser (another instance may open it).
   * @returns Nothing, so that a caller can `return visit.reject(…)` as "no record".
   */
  reject(error: unknown, keep = false): undefined {
    this.invalid = true;
    const reason = error instanceof InvalidSessionError ? error.reason : "malformed";
    this.#pending = reason;
    this.keepCookie = keep || (reason !== "expired" && reason !== "revoked");
    return undefined;
  }

  /** Tells the hook why the cookie was refused, once. */
  report(): void {
    if (this.#pending === undefined) return;
    const reason = this.#pending;
    this.#pending = undefined;
    try {
      this.onInvalid?.(reason, this.c);
    } catch (hookError) {
      console.error(`session: onInvalid hook failed: ${errorSummary(hookError)}`);
    }
  }
}
