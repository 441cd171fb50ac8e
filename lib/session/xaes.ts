/**
 * XAES-256-GCM, the extended-nonce AEAD of C2SP (`c2sp.org/XAES-256-GCM`): AES-256-GCM under a
 * subkey derived from the key and the first 12 bytes of a 24-byte nonce. A random 192-bit nonce
 * per message lifts AES-GCM's limit of about 2^32 random nonces per key.
 *
 * Two implementations with identical output: a synchronous one over `node:crypto` (Deno,
 * Deno Deploy, Node, Bun) and an asynchronous one over Web Crypto for every other runtime.
 * On Deno, each `crypto.subtle` call is a round trip to another thread, so the synchronous
 * path is much faster for cookie-sized messages (bench/seal_bench.ts measures both).
 *
 * @module
 */

import {
  DENO_VERSION,
  hasNodeCryptoModule,
  type NodeCrypto,
  nodeCrypto,
  nodeCryptoIsCheap,
} from "./_node_crypto.ts";

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
 * import { xaes256gcm, XaesAuthenticationError } from "./xaes.ts";
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

/**
 * A key prepared once for many messages: the per-key part of the subkey derivation (the CMAC
 * subkey `K1` and the AES key schedule) is done at preparation, never per message.
 */
export interface XaesKey {
  /**
   * True when {@linkcode XaesKey.sealSync} and {@linkcode XaesKey.openSync} are the fast path.
   * False at first for `auto` keys prepared where loading `node:crypto` is costly (Deno 2.9+):
   * it turns true once `node:crypto` is loaded, shortly after the first message.
   */
  readonly sync: boolean;
  /** Encrypts; see {@linkcode Xaes256Gcm.encrypt}. */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  /** Decrypts; see {@linkcode Xaes256Gcm.decrypt}. */
  open(nonce: Uint8Array, ciphertextWithTag: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  /** Synchronous {@linkcode XaesKey.seal}, present on the `node:crypto` backend. */
  sealSync?(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /**
   * Seals under a fresh random nonce, synchronously, writing `nonce || ciphertext || tag` into
   * `out` at `offset`. Present on the `node:crypto` backend, where it draws nonces and their
   * subkeys in batches (one random fill and one AES call for many messages).
   */
  sealFreshSync?(plaintext: Uint8Array, aad: Uint8Array, out: Uint8Array, offset: number): void;
  /** Synchronous {@linkcode XaesKey.open}, present on the `node:crypto` backend. */
  openSync?(nonce: Uint8Array, ciphertextWithTag: Uint8Array, aad: Uint8Array): Uint8Array;
}

/** Which implementation to use: `auto` picks `node` where `node:crypto` exists. */
export type XaesBackend = "auto" | "node" | "webcrypto";

/** Deno before 2.9 counts each unfinished node:crypto cipher as an open resource. */
const CIPHERS_ARE_RESOURCES = DENO_VERSION !== undefined &&
  (DENO_VERSION[0] < 2 || (DENO_VERSION[0] === 2 && DENO_VERSION[1] < 9));

/**
 * True when the synchronous `node:crypto` backend is available in this runtime. Known without
 * loading `node:crypto` where that is costly (Deno 2.9+, which always has it).
 *
 * @example Asking for the fastest backend only where it exists
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasNodeCrypto, prepareXaesKey } from "./xaes.ts";
 *
 * const key = await prepareXaesKey(new Uint8Array(32), hasNodeCrypto ? "node" : "webcrypto");
 * assert.equal(key.sync, hasNodeCrypto);
 * ```
 */
export const hasNodeCrypto: boolean = hasNodeCryptoModule();

function checkLengths(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== KEY_LENGTH) {
    throw new RangeError(
      `Cannot use XAES-256-GCM key: key must be ${KEY_LENGTH} bytes, received ${key.length}`,
    );
  }
  if (nonce.length !== NONCE_LENGTH) {
    throw new RangeError(
      `Cannot use XAES-256-GCM nonce: nonce must be ${NONCE_LENGTH} bytes, received ${nonce.length}`,
    );
  }
}

/** Doubling in GF(2^128), as for the CMAC subkey K1 (NIST SP 800-38B). */
function dbl(l: Uint8Array): Uint8Array {
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

/** The two blocks `M1 ^ K1 || M2 ^ K1` whose encryption is the derived key. */
function subkeyInput(
  k1: Uint8Array,
  nonce: Uint8Array,
  m: Uint8Array = new Uint8Array(32),
): Uint8Array {
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

/** GCM options of every cipher: one object for all messages. */
const GCM_OPTIONS = { authTagLength: TAG_LENGTH } as const;

function forged(cause: unknown): XaesAuthenticationError {
  return new XaesAuthenticationError({ cause });
}

function prepareNodeKey(crypto: NodeCrypto, key: Uint8Array): XaesKey {
  // ECB is stateless per block, so one long-lived cipher can serve every derivation of this
  // key (creating one costs more than the derivation itself). Deno before 2.9 tracks each
  // open node:crypto cipher as a resource, which its test sanitizer reports as a leak: there,
  // each derivation gets its own cipher, finished at once. An empty IV (not null) for Deno 2.5.
  const newEcb = () => {
    const cipher = crypto.createCipheriv("aes-256-ecb", key, new Uint8Array(0));
    cipher.setAutoPadding(false);
    return cipher;
  };
  const shared = CIPHERS_ARE_RESOURCES ? undefined : newEcb();
  const ecb = (input: Uint8Array): Uint8Array => {
    // The Buffer is used as it is (a Uint8Array): no copy on the per-message path.
    if (shared) return shared.update(input);
    const cipher = newEcb();
    const out = new Uint8Array(cipher.update(input));
    cipher.final();
    return out;
  };
  const k1 = dbl(ecb(new Uint8Array(16)));
  // One scratch block pair per key for single derivations: calls are synchronous, never
  // interleaved.
  const scratch = new Uint8Array(32);
  const derive = (nonce: Uint8Array) => ecb(subkeyInput(k1, nonce, scratch));

  const gcmSealInto = (
    subkey: Uint8Array,
    nonce: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): void => {
    const cipher = crypto.createCipheriv("aes-256-gcm", subkey, nonce.subarray(12), GCM_OPTIONS);
    cipher.setAAD(aad);
    const head = cipher.update(plaintext);
    const tail = cipher.final();
    out.set(head, offset);
    out.set(tail, offset + head.length);
    out.set(cipher.getAuthTag(), offset + head.length + tail.length);
  };
  const sealSync = (nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array => {
    const out = new Uint8Array(plaintext.length + TAG_LENGTH);
    gcmSealInto(derive(nonce), nonce, plaintext, aad, out, 0);
    return out;
  };

  // Nonces and their subkeys, made POOL at a time: one random fill and one AES call instead of
  // POOL of each. Each pair is used once, then its subkey is wiped.
  const POOL = 64;
  let nonces = new Uint8Array(0);
  let subkeys: Uint8Array = new Uint8Array(0);
  let next = POOL;
  const sealFreshSync = (
    plaintext: Uint8Array,
    aad: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): void => {
    if (next === POOL) {
      nonces = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_LENGTH * POOL));
      const input = new Uint8Array(32 * POOL);
      for (let i = 0; i < POOL; i++) {
        input.set(
          subkeyInput(k1, nonces.subarray(NONCE_LENGTH * i, NONCE_LENGTH * (i + 1))),
          32 * i,
        );
      }
      subkeys = ecb(input);
      next = 0;
    }
    const i = next++;
    const nonce = nonces.subarray(NONCE_LENGTH * i, NONCE_LENGTH * (i + 1));
    const subkey = subkeys.subarray(32 * i, 32 * (i + 1));
    out.set(nonce, offset);
    gcmSealInto(subkey, nonce, plaintext, aad, out, offset + NONCE_LENGTH);
    subkey.fill(0);
  };
  const openSync = (nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array => {
    if (sealed.length < TAG_LENGTH) throw forged(new Error("ciphertext shorter than the tag"));
    const split = sealed.length - TAG_LENGTH;
    try {
      const decipher = crypto.createDecipheriv(
        "aes-256-gcm",
        derive(nonce),
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
      throw forged(error);
    }
  };
  return {
    sync: true,
    sealSync,
    sealFreshSync,
    openSync,
    seal: (n, p, a) => {
      try {
        return Promise.resolve(sealSync(n, p, a));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    open: (n, c, a) => {
      try {
        return Promise.resolve(openSync(n, c, a));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}

async function prepareWebKey(key: Uint8Array): Promise<XaesKey> {
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
  const k1 = dbl(await block(new Uint8Array(16)));
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
    sync: false,
    seal: async (nonce, plaintext, aad) =>
      new Uint8Array(
        await subtle.encrypt(
          params(nonce, aad),
          await gcmKey(nonce, "encrypt"),
          plaintext as Uint8Array<ArrayBuffer>,
        ),
      ),
    open: async (nonce, sealed, aad) => {
      const k = await gcmKey(nonce, "decrypt");
      try {
        return new Uint8Array(
          await subtle.decrypt(params(nonce, aad), k, sealed as Uint8Array<ArrayBuffer>),
        );
      } catch (error) {
        throw forged(error);
      }
    },
  };
}

/**
 * Prepares a key for many messages with the chosen backend.
 *
 * @param key 32-byte key.
 * @param backend Implementation to use.
 * @default {"auto"}
 * @returns The prepared key.
 * @throws {RangeError} When the key is not 32 bytes.
 * @throws {Error} When `backend` is `node` and `node:crypto` is not available.
 *
 * @example Sealing several messages under one prepared key
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareXaesKey } from "./xaes.ts";
 *
 * const key = await prepareXaesKey(crypto.getRandomValues(new Uint8Array(32)));
 * const nonce = crypto.getRandomValues(new Uint8Array(24));
 * const sealed = await key.seal(nonce, new TextEncoder().encode("hi"), new Uint8Array());
 * assert.equal(sealed.length, 2 + 16);
 * ```
 */
export async function prepareXaesKey(
  key: Uint8Array,
  backend: XaesBackend = "auto",
): Promise<XaesKey> {
  if (key.length !== KEY_LENGTH) {
    throw new RangeError(
      `Cannot use XAES-256-GCM key: key must be ${KEY_LENGTH} bytes, received ${key.length}`,
    );
  }
  if (backend === "webcrypto") return await prepareWebKey(key);
  if (backend === "auto" && !nodeCryptoIsCheap()) return await prepareUpgradingKey(key);
  const node = nodeCrypto();
  if (node) return prepareNodeKey(node, key);
  if (backend === "node") {
    throw new Error("Cannot use the node backend: node:crypto is not available in this runtime");
  }
  return await prepareWebKey(key);
}

/**
 * How long after the first message under a Web Crypto key that awaits `node:crypto` the switch
 * to it happens: long enough for the first response to leave, since loading blocks the
 * isolate for tens of milliseconds.
 */
const UPGRADE_DELAY_MS = 50;

/** Keys waiting for `node:crypto`, each with its raw bytes, upgraded all at once. */
const waiting = new Map<XaesKey, Uint8Array>();
let upgradeScheduled = false;

/**
 * A key for the start of a process where loading `node:crypto` is costly (Deno 2.9+): `sync`
 * is false, so callers that check it (the middleware) use the asynchronous methods, which Web
 * Crypto serves; shortly after the first message, in the background, `node:crypto` is loaded
 * and the key becomes the synchronous one in place (same output, so nothing sealed before
 * changes). A caller that calls a synchronous method anyway switches it at once. All waiting
 * keys switch together, so a keyring is never half synchronous.
 */
async function prepareUpgradingKey(key: Uint8Array): Promise<XaesKey> {
  const web = await prepareWebKey(key);
  // Derived in the meantime by another key's switch: no need to wait any more.
  const node = nodeCryptoIsCheap() ? nodeCrypto() : undefined;
  if (node) return prepareNodeKey(node, key);
  // A caller that asks for a synchronous call gets it, loading node:crypto at once.
  const now = (): XaesKey => {
    upgradeWaitingKeys();
    if (!upgrading.sync) throw new Error("Cannot use node:crypto: it is not available here");
    return upgrading;
  };
  const upgrading: XaesKey = {
    sync: false,
    seal: (nonce, plaintext, aad) => web.seal(nonce, plaintext, aad).finally(scheduleUpgrade),
    open: (nonce, sealed, aad) => web.open(nonce, sealed, aad).finally(scheduleUpgrade),
    sealSync: (nonce, plaintext, aad) => now().sealSync!(nonce, plaintext, aad),
    sealFreshSync: (plaintext, aad, out, offset) =>
      now().sealFreshSync!(plaintext, aad, out, offset),
    openSync: (nonce, sealed, aad) => now().openSync!(nonce, sealed, aad),
  };
  waiting.set(upgrading, key.slice());
  return upgrading;
}

function scheduleUpgrade(): void {
  if (upgradeScheduled || waiting.size === 0) return;
  upgradeScheduled = true;
  const timer: unknown = setTimeout(upgradeWaitingKeys, UPGRADE_DELAY_MS);
  // Never what keeps a process (or a test) alive.
  (globalThis as { Deno?: { unrefTimer?(id: unknown): void } }).Deno?.unrefTimer?.(timer);
}

function upgradeWaitingKeys(): void {
  upgradeScheduled = false;
  const node = nodeCrypto();
  for (const [upgrading, raw] of waiting) {
    try {
      // In place: the sealers holding this object see the synchronous methods from now on.
      if (node) Object.assign(upgrading, prepareNodeKey(node, raw));
    } catch (error) {
      // Runs from a timer: a throw here would end the process. The key stays on Web Crypto.
      console.error("sealed-sessions: node:crypto refused the key; staying on Web Crypto", error);
    }
    raw.fill(0);
  }
  waiting.clear();
}

function primitive(backend: XaesBackend): Xaes256Gcm {
  return {
    async encrypt(key, nonce, plaintext, aad) {
      checkLengths(key, nonce);
      return await (await prepareXaesKey(key, backend)).seal(nonce, plaintext, aad);
    },
    async decrypt(key, nonce, ciphertextWithTag, aad) {
      checkLengths(key, nonce);
      return await (await prepareXaesKey(key, backend)).open(nonce, ciphertextWithTag, aad);
    },
  };
}

/**
 * XAES-256-GCM over the fastest backend of this runtime (`node:crypto` where it exists, else
 * Web Crypto). Each call derives the per-key state anew: for many messages under one key, use
 * {@linkcode prepareXaesKey}.
 *
 * @example The first test vector of the C2SP spec
 * ```ts
 * import assert from "node:assert/strict";
 * import { xaes256gcm } from "./xaes.ts";
 *
 * const key = new Uint8Array(32).fill(1);
 * const nonce = new TextEncoder().encode("ABCDEFGHIJKLMNOPQRSTUVWX");
 * const plaintext = new TextEncoder().encode("XAES-256-GCM");
 * const sealed = await xaes256gcm.encrypt(key, nonce, plaintext, new Uint8Array());
 * const hex = Array.from(sealed, (b) => b.toString(16).padStart(2, "0")).join("");
 * assert.equal(hex, "ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271");
 * ```
 */
export const xaes256gcm: Xaes256Gcm = primitive("auto");

/**
 * XAES-256-GCM over Web Crypto only: for runtimes without `node:crypto`, and to check that both
 * backends agree.
 *
 * @example Both backends give the same bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { xaes256gcm, xaes256gcmWebCrypto } from "./xaes.ts";
 *
 * const key = new Uint8Array(32).fill(3);
 * const nonce = new Uint8Array(24);
 * const data = new TextEncoder().encode("same bytes");
 * const a = await xaes256gcm.encrypt(key, nonce, data, new Uint8Array());
 * const b = await xaes256gcmWebCrypto.encrypt(key, nonce, data, new Uint8Array());
 * assert.equal(a.join(), b.join());
 * ```
 */
export const xaes256gcmWebCrypto: Xaes256Gcm = primitive("webcrypto");
