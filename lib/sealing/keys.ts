/**
 * Turns configured secrets into a keyring, once, at set-up. Each secret gives a 256-bit
 * XAES-256-GCM key and a 4-byte key id through HKDF-SHA256 with a fixed salt and two info
 * strings (see `docs/seal-format.md`), so the key id says nothing about the key. The keys are
 * prepared over one backend for the whole keyring (`xaes_keys.ts` picks it), and their raw bytes
 * wiped once prepared.
 *
 * @module
 */

import { readUint32, sameBytes } from "../common/bytes.ts";
import { SessionConfigError } from "../common/errors.ts";
import type { XaesBackend } from "../cipher/one_shot.ts";
import { hkdfSha256, prepareXaesKeys, type XaesKeySet } from "../cipher/key_set.ts";

/** Minimum bytes in a secret: 256 bits, the key size. */
export const MIN_SECRET_BYTES = 32;
/** Bytes in a key id. */
export const KEY_ID_LENGTH = 4;

const encoder = new TextEncoder();
/** HKDF salt, fixed: the secrets carry the entropy, the salt separates this use of them. */
export const HKDF_SALT: Uint8Array = encoder.encode("sealed-sessions/v1");
/** HKDF info of the XAES-256-GCM key. */
export const HKDF_INFO_KEY: Uint8Array = encoder.encode("sealed-sessions/v1 xaes-256-gcm key");
/** HKDF info of the key id. */
export const HKDF_INFO_KEY_ID: Uint8Array = encoder.encode("sealed-sessions/v1 key id");

/** A secret as configured: text (taken as UTF-8) or raw bytes. */
export type Secret = string | Uint8Array;

/** The keys of one configuration: a key id per secret, and the keys over one backend. */
export interface Keyring {
  /** The key ids, in the order of the secrets: the first seals. */
  readonly ids: readonly Uint8Array[];
  /** The position of each key (0 = newest) by its id as a big-endian number. */
  readonly byId: ReadonlyMap<number, number>;
  /** The prepared keys, in the same order. */
  readonly keys: XaesKeySet;
}

/** What HKDF gives for one secret: its key id and its raw key. */
interface Derived {
  readonly id: Uint8Array;
  readonly idNumber: number;
  readonly key: Uint8Array;
}

/**
 * Checks secrets without deriving anything, so that set-up fails at once with a clear message.
 *
 * @param secrets Secrets, newest first.
 * @param option The option name to put in messages.
 * @returns The secrets as bytes.
 * @throws {SessionConfigError} When the list is empty, a secret is shorter than 32 bytes, or
 * repeats an earlier one.
 *
 * @example Reading a string secret as bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { secretBytes } from "./keys.ts";
 *
 * const [bytes] = secretBytes(["a secret of at least thirty-two bytes!"]);
 * assert.ok(bytes!.length >= 32);
 * ```
 */
export function secretBytes(secrets: readonly Secret[], option = "secrets"): Uint8Array[] {
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new SessionConfigError(
      option,
      "give at least one secret of at least 32 bytes (newest first); make one with `openssl rand -base64 32`",
    );
  }
  const list = secrets.map((secret, i) => {
    const bytes = typeof secret === "string" ? encoder.encode(secret) : secret;
    if (!(bytes instanceof Uint8Array) || bytes.length < MIN_SECRET_BYTES) {
      const got = bytes instanceof Uint8Array ? bytes.length : typeof secret;
      throw new SessionConfigError(
        `${option}[${i}]`,
        `must be at least ${MIN_SECRET_BYTES} bytes, received ${got}; make one with \`openssl rand -base64 32\``,
      );
    }
    return bytes;
  });
  // Caught here, synchronously, so that set-up fails at once rather than in key derivation.
  for (const [i, bytes] of list.entries()) {
    if (list.slice(0, i).some((earlier) => sameBytes(earlier, bytes))) {
      throw new SessionConfigError(
        `${option}[${i}]`,
        "repeats an earlier secret; remove it or use a new secret",
      );
    }
  }
  return list;
}

async function deriveAll(secrets: readonly Secret[]): Promise<Derived[]> {
  // Every derivation at once: over Web Crypto each is a round trip to another thread, and a
  // start (or a busy machine) pays for each round trip in turn.
  const derived = await Promise.all(
    secretBytes(secrets).map((ikm) =>
      Promise.all([
        hkdfSha256(ikm, HKDF_SALT, HKDF_INFO_KEY_ID, KEY_ID_LENGTH),
        hkdfSha256(ikm, HKDF_SALT, HKDF_INFO_KEY, 32),
      ])
    ),
  );
  const ids: number[] = [];
  for (const [i, [id]] of derived.entries()) {
    const idNumber = readUint32(id, 0);
    if (ids.includes(idNumber)) {
      for (const [, key] of derived) key.fill(0);
      throw new SessionConfigError(
        `secrets[${i}]`,
        "repeats an earlier secret (or shares its key id); remove it or use a new secret",
      );
    }
    ids.push(idNumber);
  }
  return derived.map(([id, key], i) => ({ id, idNumber: ids[i]!, key }));
}

function wipe(derived: readonly Derived[]): void {
  for (const { key } of derived) key.fill(0);
}

/**
 * Derives the keyring of a configuration. Call once at set-up, never per request.
 *
 * `auto` prepares the keys over `node:crypto` where it exists and costs nothing to load, else
 * over Web Crypto. Where loading it is costly (Deno 2.9+), the keyring starts on Web Crypto and
 * moves to `node:crypto` shortly after its first message (see `xaes_keys.ts`).
 *
 * @param secrets Secrets, newest first; each at least 32 bytes.
 * @param backend XAES-256-GCM implementation.
 * @default {"auto"}
 * @returns The keyring.
 * @throws {SessionConfigError} When a secret is too short, or two secrets give one key id.
 * @throws {Error} When `backend` is `node` and `node:crypto` is not available.
 *
 * @example A keyring from two secrets
 * ```ts
 * import assert from "node:assert/strict";
 * import { readUint32 } from "../common/bytes.ts";
 * import { deriveKeyring } from "./keys.ts";
 *
 * const ring = await deriveKeyring([
 *   "a secret of at least thirty-two bytes!",
 *   "an older secret, also of thirty-two bytes",
 * ], "node");
 * assert.equal(ring.keys.sync, true);
 * assert.equal(ring.byId.get(readUint32(ring.ids[1]!, 0)), 1);
 * ```
 */
export async function deriveKeyring(
  secrets: readonly Secret[],
  backend: XaesBackend = "auto",
): Promise<Keyring> {
  const derived = await deriveAll(secrets);
  try {
    const keys = await prepareXaesKeys(derived.map(({ key }) => key), backend);
    const byId = new Map(derived.map(({ idNumber }, index) => [idNumber, index]));
    return { ids: derived.map(({ id }) => id), byId, keys };
  } finally {
    wipe(derived);
  }
}
