/**
 * The sealer of the `./seal` entry: the core `Sealer` of `seal.ts` with every answer a promise,
 * whatever the backend. A synchronous backend wraps itself for asynchronous callers,
 * and what it would throw becomes a rejection; nothing is sealed or opened differently.
 *
 * @module
 */

import {
  createSealer as createCoreSealer,
  type OpenedRecord,
  type Sealer as CoreSealer,
  type SealerOptions,
  type SessionRecord,
} from "./seal.ts";

/** Seals and opens session records under the keys of one configuration. */
export interface Sealer {
  /**
   * Seals a record under the first secret, with a fresh random nonce.
   *
   * @param record The record.
   * @param cookieName The cookie name the value is for; it will not open under another.
   * @param body The JSON text of data and flash, if already computed.
   * @returns The cookie value.
   * @throws {TypeError} When the data is not JSON-serializable.
   * @throws {RangeError} When the id is not 16 bytes or a time is outside 0 to 2^32 - 1.
   */
  seal(record: SessionRecord, cookieName: string, body?: string): Promise<string>;
  /**
   * Opens a value.
   *
   * @param value The cookie value.
   * @param cookieName The cookie name it was read from.
   * @param now Current Unix time in seconds.
   * @default {Date.now() / 1000}
   * @returns The record.
   * @throws {InvalidSessionError} For every value that does not open or has expired.
   */
  open(value: string, cookieName: string, now?: number): Promise<OpenedRecord>;
}

/**
 * Derives the keys of a configuration and returns a {@linkcode Sealer}. Call once at set-up.
 *
 * @param options Secrets and backend.
 * @returns The sealer; its `seal` and `open` always return promises.
 * @throws {SessionConfigError} When a secret is missing or shorter than 32 bytes.
 * @throws {Error} When `backend` is `node` and `node:crypto` is not available.
 *
 * @example Every failure is a rejection, on every backend
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSealer } from "./async_sealer.ts";
 * import { InvalidSessionError } from "./errors.ts";
 *
 * const sealer = await createSealer({
 *   secrets: ["a secret of at least thirty-two bytes!"],
 *   backend: "node",
 * });
 * const now = Math.floor(Date.now() / 1000);
 * const sealing = sealer.seal({
 *   id: new Uint8Array(16),
 *   issuedAt: now,
 *   expiresAt: now + 60,
 *   idleExpiresAt: 0,
 *   data: { name: "Ada" },
 * }, "session");
 * assert.ok(sealing instanceof Promise);
 * assert.equal((await sealer.open(await sealing, "session")).data.name, "Ada");
 * await assert.rejects(sealer.open("not a sealed value", "session"), InvalidSessionError);
 * ```
 */
export async function createSealer(options: SealerOptions): Promise<Sealer> {
  const core: CoreSealer = await createCoreSealer(options);
  return {
    seal: async (record, cookieName, body) => await core.seal(record, cookieName, body),
    open: async (value, cookieName, now) => await core.open(value, cookieName, now),
  };
}
