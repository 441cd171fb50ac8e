/**
 * XAES-256-GCM over Web Crypto, for every runtime (workerd without `nodejs_compat`, browsers):
 * asynchronous, so a prepared key answers with promises. Same bytes as `xaes_node.ts`.
 *
 * @module
 */

import {
  checkKeyLength,
  cmacSubkey,
  NONCE_LENGTH,
  subkeyInput,
  TAG_LENGTH,
  XaesAuthenticationError,
  type XaesKey,
} from "./xaes_key.ts";

/** One key's messages under nonces the caller gives. */
interface WebCipher {
  /**
   * `ciphertext || tag`; or, given `headroom`, `headroom || nonce || ciphertext || tag` (so
   * that a prepared key's seal is one asynchronous step, not two).
   */
  encrypt(
    nonce: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
    headroom?: number,
  ): Promise<Uint8Array>;
  decrypt(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
}

async function webCipher(key: Uint8Array): Promise<WebCipher> {
  checkKeyLength(key);
  const subtle = globalThis.crypto.subtle;
  // Web Crypto has no raw block operation: one-block AES-CBC with a zero IV computes it.
  const cbc = await subtle.importKey("raw", key as Uint8Array<ArrayBuffer>, "AES-CBC", false, [
    "encrypt",
  ]);
  const zeroIv = new Uint8Array(16);
  const block = async (input: Uint8Array): Promise<Uint8Array> =>
    new Uint8Array(
      await subtle.encrypt({ name: "AES-CBC", iv: zeroIv }, cbc, input as Uint8Array<ArrayBuffer>),
      0,
      16,
    );
  const k1 = cmacSubkey(await block(new Uint8Array(16)));
  const gcmKey = async (nonce: Uint8Array, usage: KeyUsage): Promise<CryptoKey> => {
    const m = subkeyInput(k1, nonce);
    const [a, b] = await Promise.all([block(m.subarray(0, 16)), block(m.subarray(16))]);
    const kx = new Uint8Array(32);
    kx.set(a, 0);
    kx.set(b, 16);
    return subtle.importKey("raw", kx, "AES-GCM", false, [usage]);
  };
  const params = (nonce: Uint8Array, aad: Uint8Array): AesGcmParams => ({
    name: "AES-GCM",
    iv: nonce.slice(12),
    additionalData: aad as Uint8Array<ArrayBuffer>,
    tagLength: TAG_LENGTH * 8,
  });
  return {
    encrypt: async (nonce, plaintext, aad, headroom) => {
      const sealed = new Uint8Array(
        await subtle.encrypt(
          params(nonce, aad),
          await gcmKey(nonce, "encrypt"),
          plaintext as Uint8Array<ArrayBuffer>,
        ),
      );
      if (headroom === undefined) return sealed;
      const out = new Uint8Array(headroom + NONCE_LENGTH + sealed.length);
      out.set(nonce, headroom);
      out.set(sealed, headroom + NONCE_LENGTH);
      return out;
    },
    decrypt: async (nonce, sealed, aad) => {
      const k = await gcmKey(nonce, "decrypt");
      try {
        return new Uint8Array(
          await subtle.decrypt(params(nonce, aad), k, sealed as Uint8Array<ArrayBuffer>),
        );
      } catch (error) {
        throw new XaesAuthenticationError({ cause: error });
      }
    },
  };
}

/**
 * Prepares a key for many messages over Web Crypto.
 *
 * @param key 32-byte key; imported (non-extractable), not kept: the caller may wipe it.
 * @returns An asynchronous key: `seal` and `open` answer with promises, which reject with
 * their errors.
 * @throws {RangeError} When the key is not 32 bytes.
 *
 * @example Sealing and opening with promises
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareWebKey } from "./xaes_web.ts";
 *
 * const key = await prepareWebKey(crypto.getRandomValues(new Uint8Array(32)));
 * const aad = new TextEncoder().encode("session");
 * const sealing = key.seal(new TextEncoder().encode("hi"), aad, 5);
 * assert.ok(sealing instanceof Promise);
 * const sealed = await sealing;
 * assert.equal(sealed.length, 5 + 24 + 2 + 16); // 5 bytes of headroom first
 * const opened = await key.open(sealed.subarray(5, 29), sealed.subarray(29), aad);
 * assert.equal(new TextDecoder().decode(opened), "hi");
 * ```
 */
export async function prepareWebKey(key: Uint8Array): Promise<XaesKey> {
  const cipher = await webCipher(key);
  return {
    sync: false,
    seal: (plaintext, aad, headroom = 0) =>
      cipher.encrypt(
        globalThis.crypto.getRandomValues(new Uint8Array(NONCE_LENGTH)),
        plaintext,
        aad,
        headroom,
      ),
    open: cipher.decrypt,
  };
}

/**
 * Encrypts one message under a nonce the caller chose, for the one-shot primitive (its test
 * vectors fix the nonce). Sealers use {@linkcode prepareWebKey}, whose keys pick their own.
 *
 * @param key 32-byte key.
 * @param nonce 24-byte nonce.
 * @param plaintext The message.
 * @param aad Additional data.
 * @returns `ciphertext || tag`.
 * @throws {RangeError} When the key is not 32 bytes.
 *
 * @example The second C2SP test vector
 * ```ts
 * import assert from "node:assert/strict";
 * import { encryptWeb } from "./xaes_web.ts";
 *
 * const text = new TextEncoder();
 * const sealed = await encryptWeb(
 *   new Uint8Array(32).fill(3),
 *   text.encode("ABCDEFGHIJKLMNOPQRSTUVWX"),
 *   text.encode("XAES-256-GCM"),
 *   text.encode("c2sp.org/XAES-256-GCM"),
 * );
 * assert.equal(
 *   Array.from(sealed, (b) => b.toString(16).padStart(2, "0")).join(""),
 *   "986ec1832593df5443a179437fd083bf3fdb41abd740a21f71eb769d",
 * );
 * ```
 */
export async function encryptWeb(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  return await (await webCipher(key)).encrypt(nonce, plaintext, aad);
}
