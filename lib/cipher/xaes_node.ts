/**
 * XAES-256-GCM over `node:crypto` (Deno, Deno Deploy, Node, Bun): synchronous, so a prepared
 * key seals and opens at once. On Deno each `crypto.subtle` call is a round trip to another
 * thread, so this backend is much faster than Web Crypto for cookie-sized messages
 * (bench/seal_bench.ts measures both).
 *
 * @module
 */

import { DENO_VERSION, type NodeCrypto } from "./node_crypto.ts";
import {
  checkKeyLength,
  cmacSubkey,
  NONCE_LENGTH,
  subkeyInput,
  TAG_LENGTH,
  XaesAuthenticationError,
  type XaesKey,
} from "./xaes_key.ts";

/** Deno before 2.9 counts each unfinished node:crypto cipher as an open resource. */
const CIPHERS_ARE_RESOURCES = DENO_VERSION !== undefined &&
  (DENO_VERSION[0] < 2 || (DENO_VERSION[0] === 2 && DENO_VERSION[1] < 9));

/** GCM options of every cipher: one object for all messages. */
const GCM_OPTIONS = { authTagLength: TAG_LENGTH } as const;

/**
 * Nonces drawn, and their subkeys derived, at a time: one random fill and one AES call instead
 * of this many of each.
 */
const POOL = 64;

/** AES-256 under `key`, over any whole number of blocks (ECB: each block on its own). */
function blockCipher(crypto: NodeCrypto, key: Uint8Array): (input: Uint8Array) => Uint8Array {
  // ECB is stateless per block, so one long-lived cipher can serve every derivation of this
  // key (creating one costs more than the derivation itself). Deno before 2.9 tracks each
  // open node:crypto cipher as a resource, which its test sanitizer reports as a leak: there,
  // each derivation gets its own cipher, finished at once. An empty IV (not null) for Deno 2.5.
  const own = CIPHERS_ARE_RESOURCES ? key.slice() : key;
  const newEcb = () => {
    const cipher = crypto.createCipheriv("aes-256-ecb", own, new Uint8Array(0));
    cipher.setAutoPadding(false);
    return cipher;
  };
  if (!CIPHERS_ARE_RESOURCES) {
    const shared = newEcb();
    // The Buffer is used as it is (a Uint8Array): no copy on the per-message path.
    return (input) => shared.update(input);
  }
  return (input) => {
    const cipher = newEcb();
    const out = new Uint8Array(cipher.update(input));
    cipher.final();
    return out;
  };
}

/** AES-256-GCM under the message's subkey, writing `ciphertext || tag` into `out` at `offset`. */
function gcmSealInto(
  crypto: NodeCrypto,
  subkey: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  out: Uint8Array,
  offset: number,
): void {
  const cipher = crypto.createCipheriv("aes-256-gcm", subkey, nonce.subarray(12), GCM_OPTIONS);
  cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  out.set(head, offset);
  out.set(tail, offset + head.length);
  out.set(cipher.getAuthTag(), offset + head.length + tail.length);
}

/**
 * Prepares a key for many messages over `node:crypto`. The key's bytes are not kept: the
 * caller may wipe them afterwards.
 *
 * @param crypto The `node:crypto` module.
 * @param key 32-byte key.
 * @returns A synchronous key: `seal` and `open` answer at once, and throw their errors.
 * @throws {RangeError} When the key is not 32 bytes.
 *
 * @example Sealing and opening at once
 * ```ts
 * import assert from "node:assert/strict";
 * import * as nodeCrypto from "node:crypto";
 * import { prepareNodeKey } from "./xaes_node.ts";
 *
 * const key = prepareNodeKey(nodeCrypto, crypto.getRandomValues(new Uint8Array(32)));
 * const aad = new TextEncoder().encode("session");
 * const sealed = key.seal(new TextEncoder().encode("hi"), aad);
 * assert.ok(sealed instanceof Uint8Array); // not a promise
 * assert.equal(sealed.length, 24 + 2 + 16);
 * const opened = key.open(sealed.subarray(0, 24), sealed.subarray(24), aad);
 * assert.ok(opened instanceof Uint8Array);
 * assert.equal(new TextDecoder().decode(opened), "hi");
 * ```
 */
export function prepareNodeKey(crypto: NodeCrypto, key: Uint8Array): XaesKey {
  checkKeyLength(key);
  const ecb = blockCipher(crypto, key);
  const k1 = cmacSubkey(ecb(new Uint8Array(16)));
  // One scratch block pair per key for single derivations: calls are synchronous, never
  // interleaved.
  const scratch = new Uint8Array(32);

  // Nonces and their subkeys, POOL at a time. Each pair is used once, then its subkey is wiped.
  let nonces = new Uint8Array(0);
  let subkeys: Uint8Array = new Uint8Array(0);
  let next = POOL;
  const refill = (): void => {
    nonces = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_LENGTH * POOL));
    const input = new Uint8Array(32 * POOL);
    for (let i = 0; i < POOL; i++) {
      input.set(subkeyInput(k1, nonces.subarray(NONCE_LENGTH * i, NONCE_LENGTH * (i + 1))), 32 * i);
    }
    subkeys = ecb(input);
    next = 0;
  };

  return {
    sync: true,
    seal(plaintext, aad, headroom = 0) {
      if (next === POOL) refill();
      const i = next++;
      const nonce = nonces.subarray(NONCE_LENGTH * i, NONCE_LENGTH * (i + 1));
      const subkey = subkeys.subarray(32 * i, 32 * (i + 1));
      const out = new Uint8Array(headroom + NONCE_LENGTH + plaintext.length + TAG_LENGTH);
      out.set(nonce, headroom);
      gcmSealInto(crypto, subkey, nonce, plaintext, aad, out, headroom + NONCE_LENGTH);
      subkey.fill(0);
      return out;
    },
    open(nonce, sealed, aad) {
      if (sealed.length < TAG_LENGTH) {
        throw new XaesAuthenticationError({ cause: new Error("ciphertext shorter than the tag") });
      }
      const split = sealed.length - TAG_LENGTH;
      try {
        const decipher = crypto.createDecipheriv(
          "aes-256-gcm",
          ecb(subkeyInput(k1, nonce, scratch)),
          nonce.subarray(12),
          GCM_OPTIONS,
        );
        decipher.setAAD(aad);
        decipher.setAuthTag(sealed.subarray(split));
        const head = decipher.update(sealed.subarray(0, split));
        const tail = decipher.final();
        if (tail.length === 0) return new Uint8Array(head.buffer, head.byteOffset, head.length);
        const out = new Uint8Array(head.length + tail.length);
        out.set(head, 0);
        out.set(tail, head.length);
        return out;
      } catch (error) {
        throw new XaesAuthenticationError({ cause: error });
      }
    },
  };
}

/**
 * Encrypts one message under a nonce the caller chose, for the one-shot primitive (its test
 * vectors fix the nonce). Sealers use {@linkcode prepareNodeKey}, whose keys pick their own.
 *
 * @param crypto The `node:crypto` module.
 * @param key 32-byte key.
 * @param nonce 24-byte nonce.
 * @param plaintext The message.
 * @param aad Additional data.
 * @returns `ciphertext || tag`.
 * @throws {RangeError} When the key is not 32 bytes.
 *
 * @example The first C2SP test vector
 * ```ts
 * import assert from "node:assert/strict";
 * import * as nodeCrypto from "node:crypto";
 * import { encryptNode } from "./xaes_node.ts";
 *
 * const text = new TextEncoder();
 * const sealed = encryptNode(
 *   nodeCrypto,
 *   new Uint8Array(32).fill(1),
 *   text.encode("ABCDEFGHIJKLMNOPQRSTUVWX"),
 *   text.encode("XAES-256-GCM"),
 *   new Uint8Array(),
 * );
 * assert.equal(
 *   Array.from(sealed, (b) => b.toString(16).padStart(2, "0")).join(""),
 *   "ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271",
 * );
 * ```
 */
export function encryptNode(
  crypto: NodeCrypto,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  checkKeyLength(key);
  const ecb = blockCipher(crypto, key);
  const subkey = ecb(subkeyInput(cmacSubkey(ecb(new Uint8Array(16))), nonce));
  const out = new Uint8Array(plaintext.length + TAG_LENGTH);
  gcmSealInto(crypto, subkey, nonce, plaintext, aad, out, 0);
  subkey.fill(0);
  return out;
}
