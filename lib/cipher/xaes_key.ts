/**
 * What every XAES-256-GCM backend shares: the sizes, the authentication error, the contract of
 * a prepared key ({@linkcode XaesKey}), and the two steps of the subkey derivation that need no
 * cipher (c2sp.org/XAES-256-GCM):
 *
 * ```
 * L  = AES-256_K(0^128);  K1 = L << 1, xor 0x87 into the last byte if the top bit of L was set
 * Kx = AES-256_K(M1 ^ K1) || AES-256_K(M2 ^ K1)   with M1, M2 = 0x00 0x01|0x02 'X' 0x00 || N[0:12]
 * ```
 *
 * The backends (`xaes_node.ts`, `xaes_web.ts`) bring the AES calls.
 *
 * @module
 */

/** Bytes in an XAES-256-GCM key. */
export const KEY_LENGTH = 32;
/** Bytes in an XAES-256-GCM nonce. */
export const NONCE_LENGTH = 24;
/** Bytes in the authentication tag appended to every ciphertext. */
export const TAG_LENGTH = 16;

/**
 * A ciphertext did not authenticate: tampered, truncated, or opened with another key, nonce or
 * additional data. The primitive says only that; what it means (for a session cookie, a forged
 * value) is for the layer above to decide.
 *
 * @example Telling a failed decryption apart
 * ```ts
 * import assert from "node:assert/strict";
 * import { xaes256gcm } from "./one_shot.ts";
 * import { XaesAuthenticationError } from "./xaes_key.ts";
 *
 * const key = new Uint8Array(32);
 * const nonce = new Uint8Array(24);
 * const sealed = await xaes256gcm.encrypt(key, nonce, new Uint8Array([1]), new Uint8Array());
 * sealed[0]! ^= 1;
 * await assert.rejects(xaes256gcm.decrypt(key, nonce, sealed, new Uint8Array()), XaesAuthenticationError);
 * ```
 */
export class XaesAuthenticationError extends Error {
  /**
   * Creates the error.
   *
   * @param options `cause`: the platform's own error, kept for logs.
   */
  constructor(options?: ErrorOptions) {
    super(
      "Cannot decrypt: the ciphertext does not authenticate under this key, nonce and additional data",
      options,
    );
    this.name = "XaesAuthenticationError";
  }
}

/**
 * A key prepared once for many messages: the per-key part of the subkey derivation (`K1` and
 * the AES key schedule) is done at preparation, never per message. A synchronous backend
 * (`node:crypto`) answers at once and throws its errors; an asynchronous one (Web Crypto)
 * answers with a promise, which rejects with them. The key picks the nonce of every message it
 * seals, so that no caller can reuse one.
 */
export interface XaesKey {
  /** True when {@linkcode XaesKey.seal} and {@linkcode XaesKey.open} answer at once. */
  readonly sync: boolean;
  /**
   * Encrypts and authenticates `plaintext`, and authenticates `aad`, under a fresh random
   * nonce.
   *
   * @param plaintext The message.
   * @param aad Additional data, authenticated but not encrypted.
   * @param headroom Bytes left (zero) at the start of the result for the caller's own header,
   * so that the sealed message needs no copy to get one.
   * @default {0}
   * @returns `headroom || nonce || ciphertext || tag`: the nonce's 24 bytes at `headroom`, then
   * the ciphertext and its 16-byte tag.
   */
  seal(plaintext: Uint8Array, aad: Uint8Array, headroom?: number): Uint8Array | Promise<Uint8Array>;
  /**
   * Verifies and decrypts a message.
   *
   * @param nonce The 24-byte nonce it was sealed under.
   * @param ciphertextWithTag `ciphertext || tag`.
   * @param aad The additional data it was sealed with.
   * @returns The plaintext.
   * @throws {XaesAuthenticationError} When it does not authenticate (a rejection on an
   * asynchronous backend).
   */
  open(
    nonce: Uint8Array,
    ciphertextWithTag: Uint8Array,
    aad: Uint8Array,
  ): Uint8Array | Promise<Uint8Array>;
}

/**
 * Checks the length of a key before any backend sees it.
 *
 * @param key The key.
 * @throws {RangeError} When it is not 32 bytes.
 *
 * @example Refusing a 16-byte key
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkKeyLength } from "./xaes_key.ts";
 *
 * checkKeyLength(new Uint8Array(32));
 * assert.throws(() => checkKeyLength(new Uint8Array(16)), RangeError);
 * ```
 */
export function checkKeyLength(key: Uint8Array): void {
  if (key.length !== KEY_LENGTH) {
    throw new RangeError(
      `Cannot use XAES-256-GCM key: key must be ${KEY_LENGTH} bytes, received ${key.length}`,
    );
  }
}

/**
 * The CMAC subkey `K1` from `L`, the encryption of the zero block: doubling in GF(2^128) (NIST
 * SP 800-38B).
 *
 * @param l `L`, 16 bytes.
 * @returns `K1`, 16 new bytes.
 *
 * @example Doubling carries the top bit into 0x87
 * ```ts
 * import assert from "node:assert/strict";
 * import { cmacSubkey } from "./xaes_key.ts";
 *
 * const l = new Uint8Array(16);
 * l[0] = 0x80;
 * l[15] = 1;
 * assert.equal(cmacSubkey(l).join(), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x85].join());
 * ```
 */
export function cmacSubkey(l: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  let carry = 0;
  for (let i = 15; i >= 0; i--) {
    const b = l[i]!;
    out[i] = ((b << 1) | carry) & 0xff;
    carry = b >>> 7;
  }
  if (carry) out[15]! ^= 0x87;
  return out;
}

/**
 * The two blocks `M1 ^ K1 || M2 ^ K1` whose encryption under the key is the message's AES-256
 * key `Kx`.
 *
 * @param k1 `K1` of the key.
 * @param nonce The message's nonce; only its first 12 bytes are read.
 * @param into 32 bytes to write the blocks into, reused across calls.
 * @default {new Uint8Array(32)}
 * @returns `into`, filled.
 *
 * @example The blocks for a zero K1
 * ```ts
 * import assert from "node:assert/strict";
 * import { subkeyInput } from "./xaes_key.ts";
 *
 * const m = subkeyInput(new Uint8Array(16), new Uint8Array(24).fill(7));
 * assert.equal(m.subarray(0, 5).join(), "0,1,88,0,7");
 * assert.equal(m.subarray(16, 21).join(), "0,2,88,0,7");
 * ```
 */
export function subkeyInput(
  k1: Uint8Array,
  nonce: Uint8Array,
  into: Uint8Array = new Uint8Array(32),
): Uint8Array {
  const m = into;
  m.fill(0);
  m[1] = 1;
  m[2] = 0x58; // "X"
  m[17] = 2;
  m[18] = 0x58;
  // Byte by byte rather than set(subarray()): no view objects on the per-message path.
  for (let i = 0; i < 12; i++) m[4 + i] = m[20 + i] = nonce[i]!;
  for (let i = 0; i < 16; i++) {
    m[i]! ^= k1[i]!;
    m[16 + i]! ^= k1[i]!;
  }
  return m;
}
