/**
 * XAES-256-GCM (C2SP), the cipher sessions are sealed with: AES-256-GCM with a 192-bit
 * nonce, safe to pick at random for any number of messages under one key. Two
 * implementations with identical output: {@linkcode xaes256gcm} (synchronous `node:crypto`
 * where the runtime has it, else Web Crypto) and {@linkcode xaes256gcmWebCrypto}.
 *
 * @example Encrypting and decrypting one message
 * ```ts
 * import assert from "node:assert/strict";
 * import { xaes256gcm, XaesAuthenticationError } from "./mod.ts";
 *
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const nonce = crypto.getRandomValues(new Uint8Array(24));
 * const aad = new TextEncoder().encode("header");
 * const sealed = await xaes256gcm.encrypt(key, nonce, new TextEncoder().encode("hi"), aad);
 * const opened = await xaes256gcm.decrypt(key, nonce, sealed, aad);
 * assert.equal(new TextDecoder().decode(opened), "hi");
 * await assert.rejects(
 *   xaes256gcm.decrypt(key, nonce, sealed, new Uint8Array()),
 *   XaesAuthenticationError,
 * );
 * ```
 *
 * @module
 */

export { xaes256gcm, xaes256gcmWebCrypto } from "./one_shot.ts";
export type { Xaes256Gcm } from "./one_shot.ts";
export { KEY_LENGTH, NONCE_LENGTH, TAG_LENGTH, XaesAuthenticationError } from "./xaes_key.ts";
