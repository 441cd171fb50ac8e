/**
 * Sealing without Hono: turn a session record into a cookie-safe value under a keyring, and
 * open it again. This is what the middleware does for each cookie; use it to read or write
 * session cookies from a worker, a script or another framework. The format is documented in
 * `docs/seal-format.md`.
 *
 * @example Sealing a record and opening it under a rotated keyring
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSealer, InvalidSessionError } from "./mod.ts";
 *
 * const oldSecret = "the secret we used until last week, 32+ bytes";
 * const newSecret = "the secret we use from today on, also 32+ bytes";
 * const before = await createSealer({ secrets: [oldSecret] });
 * const now = Math.floor(Date.now() / 1000);
 * const value = await before.seal({
 *   id: crypto.getRandomValues(new Uint8Array(16)),
 *   issuedAt: now,
 *   expiresAt: now + 3600,
 *   idleExpiresAt: 0,
 *   data: { name: "Ada" },
 * }, "session");
 *
 * const after = await createSealer({ secrets: [newSecret, oldSecret] });
 * const opened = await after.open(value, "session");
 * assert.equal(opened.data.name, "Ada");
 * assert.equal(opened.keyIndex, 1); // opened by an older secret: re-seal it
 * await assert.rejects(after.open(value, "other-cookie"), InvalidSessionError);
 * ```
 *
 * @module
 */

export { createSealer, type Sealer } from "./sealer.ts";
export type { OpenedRecord, SealerOptions, SessionRecord } from "./sealer.ts";
export { InvalidSessionError, SessionConfigError, SessionError } from "../common/errors.ts";
export type { InvalidReason, SessionErrorCode } from "../common/errors.ts";
export type { Secret } from "./keys.ts";
export type { XaesBackend } from "../cipher/one_shot.ts";
