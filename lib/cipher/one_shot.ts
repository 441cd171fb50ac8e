/**
 * XAES-256-GCM, the extended-nonce AEAD of C2SP (`c2sp.org/XAES-256-GCM`): AES-256-GCM under a
 * subkey derived from the key and the first 12 bytes of a 24-byte nonce. A random 192-bit nonce
 * per message lifts AES-GCM's limit of about 2^32 random nonces per key.
 *
 * This module is the one-shot primitive, {@linkcode xaes256gcm}, for callers that bring their
 * own key and nonce. Sealers prepare their keys once instead, over one of two backends with
 * identical output: `xaes_node.ts` (synchronous `node:crypto`) and `xaes_web.ts` (Web Crypto);
 * `xaes_key.ts` holds what they share.
 *
 * @module
 */

import { nodeCrypto } from "./node_crypto.ts";
import { checkKeyLength, NONCE_LENGTH } from "./xaes_key.ts";
import { encryptNode, prepareNodeKey } from "./xaes_node.ts";
import { encryptWeb, prepareWebKey } from "./xaes_web.ts";

/**
 * Which XAES-256-GCM implementation a sealer uses: `node` (synchronous `node:crypto`),
 * `webcrypto`, or `auto`, which picks `node` where `node:crypto` exists (starting on Web Crypto
 * where loading it is costly, Deno 2.9+, and moving to it shortly after the first message).
 */
export type XaesBackend = "auto" | "node" | "webcrypto";

/**
 * The XAES-256-GCM primitive. Ciphertexts are `ciphertext || tag`, as in the spec's vectors.
 */
export interface Xaes256Gcm {
  /**
   * Encrypts and authenticates `plaintext`, and authenticates `aad`.
   *
   * @param key 32-byte key.
   * @param nonce 24-byte nonce; never reuse one with the same key (random nonces are safe).
   * @param plaintext The message.
   * @param aad Additional data, authenticated but not encrypted.
   * @returns `ciphertext || tag`, 16 bytes longer than the plaintext.
   * @throws {RangeError} When the key or nonce has the wrong length.
   */
  encrypt(
    key: Uint8Array,
    nonce: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
  ): Promise<Uint8Array>;
  /**
   * Verifies and decrypts `ciphertextWithTag`.
   *
   * @param key 32-byte key.
   * @param nonce The 24-byte nonce used to encrypt.
   * @param ciphertextWithTag `ciphertext || tag`.
   * @param aad The additional data used to encrypt.
   * @returns The plaintext.
   * @throws {XaesAuthenticationError} When authentication fails.
   * @throws {RangeError} When the key or nonce has the wrong length.
   */
  decrypt(
    key: Uint8Array,
    nonce: Uint8Array,
    ciphertextWithTag: Uint8Array,
    aad: Uint8Array,
  ): Promise<Uint8Array>;
}

function checkLengths(key: Uint8Array, nonce: Uint8Array): void {
  checkKeyLength(key);
  if (nonce.length !== NONCE_LENGTH) {
    throw new RangeError(
      `Cannot use XAES-256-GCM nonce: nonce must be ${NONCE_LENGTH} bytes, received ${nonce.length}`,
    );
  }
}

/**
 * XAES-256-GCM over the fastest backend of this runtime: `node:crypto` where it exists (on
 * Deno 2.9+, the first call loads it, tens of milliseconds), else Web Crypto. Each call
 * derives the per-key state anew.
 *
 * @example The first test vector of the C2SP spec
 * ```ts
 * import assert from "node:assert/strict";
 * import { xaes256gcm } from "./one_shot.ts";
 *
 * const key = new Uint8Array(32).fill(1);
 * const nonce = new TextEncoder().encode("ABCDEFGHIJKLMNOPQRSTUVWX");
 * const plaintext = new TextEncoder().encode("XAES-256-GCM");
 * const sealed = await xaes256gcm.encrypt(key, nonce, plaintext, new Uint8Array());
 * const hex = Array.from(sealed, (b) => b.toString(16).padStart(2, "0")).join("");
 * assert.equal(hex, "ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271");
 * ```
 */
export const xaes256gcm: Xaes256Gcm = {
  async encrypt(key, nonce, plaintext, aad) {
    checkLengths(key, nonce);
    const node = nodeCrypto();
    return node
      ? encryptNode(node, key, nonce, plaintext, aad)
      : await encryptWeb(key, nonce, plaintext, aad);
  },
  async decrypt(key, nonce, ciphertextWithTag, aad) {
    checkLengths(key, nonce);
    const node = nodeCrypto();
    const prepared = node ? prepareNodeKey(node, key) : await prepareWebKey(key);
    return await prepared.open(nonce, ciphertextWithTag, aad);
  },
};

/**
 * XAES-256-GCM over Web Crypto only: for runtimes without `node:crypto`, and to check that both
 * backends agree.
 *
 * @example Both backends give the same bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { xaes256gcm, xaes256gcmWebCrypto } from "./one_shot.ts";
 *
 * const key = new Uint8Array(32).fill(3);
 * const nonce = new Uint8Array(24);
 * const data = new TextEncoder().encode("same bytes");
 * const a = await xaes256gcm.encrypt(key, nonce, data, new Uint8Array());
 * const b = await xaes256gcmWebCrypto.encrypt(key, nonce, data, new Uint8Array());
 * assert.equal(a.join(), b.join());
 * ```
 */
export const xaes256gcmWebCrypto: Xaes256Gcm = {
  async encrypt(key, nonce, plaintext, aad) {
    checkLengths(key, nonce);
    return await encryptWeb(key, nonce, plaintext, aad);
  },
  async decrypt(key, nonce, ciphertextWithTag, aad) {
    checkLengths(key, nonce);
    return await (await prepareWebKey(key)).open(nonce, ciphertextWithTag, aad);
  },
};
