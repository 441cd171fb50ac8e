/**
 * Seals session records into compact cookie values and opens them again. The byte layout is
 * documented in `docs/seal-format.md`:
 *
 * ```
 * value     = base64url( version || keyId || nonce || ciphertext || tag )
 * aad       = version || keyId || cookieName
 * plaintext = headerLength || sessionId || issuedAt || expiresAt || idleExpiresAt || flags || json
 * ```
 *
 * A header of 28 bytes (no `flags`, as sealed before the flags byte existed) still opens, with all
 * flags clear.
 *
 * @module
 */

import { whenNodeCryptoLoaded } from "./_node_crypto.ts";
import { decodeBase64Url, encodeBase64Url } from "./base64url.ts";
import { decodeBody, encodeBody } from "./body.ts";
import { InvalidSessionError } from "./errors.ts";
import { deriveKeyring, KEY_ID_LENGTH, type Keyring, type SealKey, type Secret } from "./keys.ts";
import { NONCE_LENGTH, TAG_LENGTH, XaesAuthenticationError, type XaesBackend } from "./xaes.ts";

/** The format version, first byte of every sealed value. */
export const SEAL_VERSION = 1;
/** Bytes in a session id. */
export const SESSION_ID_LENGTH = 16;
/** Bytes of the shortest plaintext header of format version 1 (after its length byte). */
export const HEADER_LENGTH_V1 = SESSION_ID_LENGTH + 12;
/** Bytes of the plaintext header written now: the version-1 header and a flags byte. */
export const HEADER_LENGTH = HEADER_LENGTH_V1 + 1;
/**
 * Flag bit: a browser-session cookie (written without `Max-Age`). Clear means persistent, which
 * is also what a header without flags (sealed before they existed) means.
 */
export const FLAG_BROWSER_SESSION = 0x01;

/** Latest time a sealed value can hold: times are unsigned 32-bit Unix seconds (year 2106). */
export const MAX_SEALED_TIME = 0xffff_ffff;

const PREFIX_LENGTH = 1 + KEY_ID_LENGTH + NONCE_LENGTH;
const MIN_SEALED_LENGTH = PREFIX_LENGTH + 1 + HEADER_LENGTH_V1 + 2 + TAG_LENGTH;

/** What a sealed value holds. Times are Unix seconds. */
export interface SessionRecord {
  /** Random 128-bit session id. */
  id: Uint8Array;
  /** When this session id was issued. */
  issuedAt: number;
  /** End of the absolute lifetime. */
  expiresAt: number;
  /** Idle deadline; 0 when there is no idle timeout. */
  idleExpiresAt: number;
  /** The session data, a JSON object. */
  data: Record<string, unknown>;
  /** Flash values for the next request, if any. */
  flash?: Record<string, unknown> | undefined;
  /**
   * True for a persistent cookie (with `Max-Age`), false for a browser-session cookie (none).
   * Sealed in the flags byte, so every later re-seal keeps it.
   * @default {true}
   */
  persistent?: boolean | undefined;
}

/** A record opened from a cookie. */
export interface OpenedRecord extends SessionRecord {
  /** The sealed persistence; true for a value sealed before it was recorded. */
  persistent: boolean;
  /** Position of the key that opened it in `secrets`: above 0 means it should be re-sealed. */
  keyIndex: number;
  /** The JSON text that was sealed, to tell later whether the data changed. */
  body: string;
}

/** Options of {@linkcode createSealer}. */
export interface SealerOptions {
  /** Secrets, newest first; each at least 32 bytes. The first seals, all open. */
  secrets: readonly Secret[];
  /**
   * XAES-256-GCM implementation.
   * @default {"auto"}
   */
  backend?: XaesBackend;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
type BufferLike = {
  from(text: string, encoding: "utf8"): Uint8Array;
  from(data: ArrayBuffer, offset: number, length: number): { toString(e: "utf8"): string };
};
let utf8Decode = (bytes: Uint8Array): string => decoder.decode(bytes);
let utf8 = (text: string): Uint8Array => encoder.encode(text);
// Buffer's UTF-8 encoder beats TextEncoder for short strings (bench/seal_bench.ts). Taken once
// node:crypto is loaded: on Deno 2.9+ the first touch of `Buffer` loads Node's built-ins, which
// the start of a server does without (see _node_crypto.ts).
whenNodeCryptoLoaded(() => {
  const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;
  if (!NodeBuffer) return;
  // The plaintext passed GCM authentication, so it is the UTF-8 we sealed: no need for the
  // strict decoder's validation there.
  utf8Decode = (bytes) =>
    NodeBuffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length).toString("utf8");
  utf8 = (text) => NodeBuffer.from(text, "utf8");
});

function uint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>>
    0;
}

const aadCache = new Map<number, Map<string, Uint8Array>>();

/** The authenticated data: version, key id and cookie name. Cached: a few names per app. */
function aadFor(prefix: Uint8Array, cookieName: string): Uint8Array {
  const keyId = ((prefix[1]! << 24) | (prefix[2]! << 16) | (prefix[3]! << 8) | prefix[4]!) >>> 0;
  let byName = aadCache.get(keyId);
  if (!byName) {
    if (aadCache.size > 64) aadCache.clear();
    aadCache.set(keyId, byName = new Map());
  }
  let aad = byName.get(cookieName);
  if (!aad) {
    const name = encoder.encode(cookieName);
    aad = new Uint8Array(1 + KEY_ID_LENGTH + name.length);
    aad.set(prefix.subarray(0, 1 + KEY_ID_LENGTH), 0);
    aad.set(name, 1 + KEY_ID_LENGTH);
    if (byName.size > 64) byName.clear();
    byName.set(cookieName, aad);
  }
  return aad;
}

/**
 * Checks a record's absolute lifetime and idle deadline.
 *
 * @param record The sealed instants, Unix seconds (`idleExpiresAt` 0: none).
 * @param now Current Unix time in seconds.
 * @throws {InvalidSessionError} With reason `expired` when either has passed.
 *
 * @example Accepting a live record and refusing an expired one
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertUnexpired } from "./seal.ts";
 * import { InvalidSessionError } from "./errors.ts";
 *
 * assertUnexpired({ expiresAt: 2_000_000_000, idleExpiresAt: 0 }, 1_900_000_000);
 * assert.throws(
 *   () => assertUnexpired({ expiresAt: 2_000_000_000, idleExpiresAt: 1_900_000_000 }, 1_950_000_000),
 *   (error) => error instanceof InvalidSessionError && error.reason === "expired",
 * );
 * ```
 */
export function assertUnexpired(
  record: { expiresAt: number; idleExpiresAt: number },
  now: number,
): void {
  const { expiresAt, idleExpiresAt } = record;
  if (now >= expiresAt || (idleExpiresAt !== 0 && now >= idleExpiresAt)) {
    throw new InvalidSessionError("expired", {
      cause: new Error(`expired at ${Math.min(expiresAt, idleExpiresAt || expiresAt)}`),
    });
  }
}

/**
 * Seals and opens session records under a keyring. Create one per configuration with
 * {@linkcode createSealer}; it keeps the derived keys.
 */
export class Sealer {
  readonly #ring: Keyring;

  /**
   * Internal: use {@linkcode createSealer}, which derives the keyring.
   *
   * @param ring Derived keys, newest first.
   */
  constructor(ring: Keyring) {
    this.#ring = ring;
  }

  /** True when sealing and opening can run synchronously (the `node:crypto` backend). */
  get sync(): boolean {
    return this.#ring.keys[0]!.xaes.sync;
  }

  #prepare(record: SessionRecord, body: string): { prefix: Uint8Array; plaintext: Uint8Array } {
    if (record.id.length !== SESSION_ID_LENGTH) {
      throw new RangeError(
        `Cannot seal the session: id must be ${SESSION_ID_LENGTH} bytes, received ${record.id.length}`,
      );
    }
    for (const field of ["issuedAt", "expiresAt", "idleExpiresAt"] as const) {
      // Written as uint32: anything outside would silently wrap to another time.
      if (!(record[field] >= 0 && record[field] <= MAX_SEALED_TIME)) {
        throw new RangeError(
          `Cannot seal the session: ${field} must be Unix seconds from 0 to ${MAX_SEALED_TIME}, received ${
            record[field]
          }`,
        );
      }
    }
    const json = utf8(body);
    const plaintext = new Uint8Array(1 + HEADER_LENGTH + json.length);
    const view = new DataView(plaintext.buffer);
    plaintext[0] = HEADER_LENGTH;
    plaintext.set(record.id, 1);
    view.setUint32(1 + SESSION_ID_LENGTH, record.issuedAt);
    view.setUint32(5 + SESSION_ID_LENGTH, record.expiresAt);
    view.setUint32(9 + SESSION_ID_LENGTH, record.idleExpiresAt);
    plaintext[1 + HEADER_LENGTH_V1] = record.persistent === false ? FLAG_BROWSER_SESSION : 0;
    plaintext.set(json, 1 + HEADER_LENGTH);

    const key = this.#ring.keys[0]!;
    const prefix = new Uint8Array(PREFIX_LENGTH);
    prefix[0] = SEAL_VERSION;
    prefix.set(key.id, 1);
    return { prefix, plaintext };
  }

  #finish(prefix: Uint8Array, sealed: Uint8Array): string {
    const out = new Uint8Array(PREFIX_LENGTH + sealed.length);
    out.set(prefix, 0);
    out.set(sealed, PREFIX_LENGTH);
    return encodeBase64Url(out);
  }

  /**
   * Seals a record synchronously. Only on the `node:crypto` backend (see {@linkcode sync}).
   *
   * @param record The record.
   * @param cookieName The cookie name the value is for; it will not open under another.
   * @param body The JSON text of data and flash, if already computed.
   * @returns The cookie value.
   * @throws {TypeError} When the data is not JSON-serializable.
   * @throws {RangeError} When the id is not 16 bytes or a time is outside 0 to 2^32 - 1.
   */
  sealSync(record: SessionRecord, cookieName: string, body?: string): string {
    const { prefix, plaintext } = this.#prepare(
      record,
      body ?? encodeBody(record.data, record.flash),
    );
    const key = this.#ring.keys[0]!.xaes;
    const aad = aadFor(prefix, cookieName);
    if (key.sealFreshSync) {
      // The key picks the nonce from its batch and writes straight into the output.
      const out = new Uint8Array(PREFIX_LENGTH + plaintext.length + TAG_LENGTH);
      out.set(prefix.subarray(0, 1 + KEY_ID_LENGTH), 0);
      key.sealFreshSync(plaintext, aad, out, 1 + KEY_ID_LENGTH);
      return encodeBase64Url(out);
    }
    if (!key.sealSync) throw new Error("Cannot seal synchronously: the backend is asynchronous");
    const nonce = crypto.getRandomValues(prefix.subarray(1 + KEY_ID_LENGTH));
    return this.#finish(prefix, key.sealSync(nonce, plaintext, aad));
  }

  /**
   * Seals a record.
   *
   * @param record The record.
   * @param cookieName The cookie name the value is for; it will not open under another.
   * @param body The JSON text of data and flash, if already computed.
   * @returns The cookie value.
   * @throws {TypeError} When the data is not JSON-serializable.
   * @throws {RangeError} When the id is not 16 bytes or a time is outside 0 to 2^32 - 1.
   */
  async seal(record: SessionRecord, cookieName: string, body?: string): Promise<string> {
    const { prefix, plaintext } = this.#prepare(
      record,
      body ?? encodeBody(record.data, record.flash),
    );
    const sealed = await this.#ring.keys[0]!.xaes.seal(
      crypto.getRandomValues(prefix.subarray(1 + KEY_ID_LENGTH)),
      plaintext,
      aadFor(prefix, cookieName),
    );
    return this.#finish(prefix, sealed);
  }

  /** Decodes a value and finds its key; the nonce and ciphertext follow at fixed offsets. */
  #parse(value: string): { bytes: Uint8Array; found: { key: SealKey; index: number } } {
    const bytes = value.length >= Math.ceil((MIN_SEALED_LENGTH * 4) / 3)
      ? decodeBase64Url(value)
      : undefined;
    if (!bytes || bytes.length < MIN_SEALED_LENGTH) {
      throw new InvalidSessionError("malformed", { cause: new Error("not a sealed value") });
    }
    if (bytes[0] !== SEAL_VERSION) {
      throw new InvalidSessionError("malformed", {
        cause: new Error(`unknown format version ${bytes[0]}`),
      });
    }
    const idNumber = ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0;
    const found = this.#ring.find(idNumber);
    if (!found) {
      throw new InvalidSessionError("unknown-key", {
        cause: new Error(`no configured secret has key id ${idNumber.toString(16)}`),
      });
    }
    return { bytes, found };
  }

  #decode(plaintext: Uint8Array, keyIndex: number, now: number): OpenedRecord {
    const headerLength = plaintext[0]!;
    // A later format version may append header fields; they are skipped, not refused.
    if (headerLength < HEADER_LENGTH_V1 || plaintext.length < 1 + headerLength) {
      throw new InvalidSessionError("malformed", { cause: new Error("short header") });
    }
    // Big-endian uint32s read by hand: no DataView object per open.
    const issuedAt = uint32(plaintext, 1 + SESSION_ID_LENGTH);
    const expiresAt = uint32(plaintext, 5 + SESSION_ID_LENGTH);
    const idleExpiresAt = uint32(plaintext, 9 + SESSION_ID_LENGTH);
    // No flags byte: sealed before it existed, when every cookie was persistent. Bits this
    // version does not know are ignored, like header bytes it does not know.
    const flags = headerLength > HEADER_LENGTH_V1 ? plaintext[1 + HEADER_LENGTH_V1]! : 0;
    assertUnexpired({ expiresAt, idleExpiresAt }, now);
    const body = utf8Decode(plaintext.subarray(1 + headerLength));
    const decoded = decodeBody(body);
    if (!decoded) {
      throw new InvalidSessionError("malformed", {
        cause: new Error("the sealed JSON is not a data object or [data, flash]"),
      });
    }
    const { data, flash } = decoded;
    return {
      id: plaintext.slice(1, 1 + SESSION_ID_LENGTH),
      issuedAt,
      expiresAt,
      idleExpiresAt,
      data,
      flash,
      persistent: (flags & FLAG_BROWSER_SESSION) === 0,
      keyIndex,
      body,
    };
  }

  /**
   * Opens a value synchronously. Only on the `node:crypto` backend (see {@linkcode sync}).
   *
   * @param value The cookie value.
   * @param cookieName The cookie name it was read from.
   * @param now Current Unix time in seconds.
   * @returns The record.
   * @throws {InvalidSessionError} For every value that does not open or has expired.
   */
  openSync(value: string, cookieName: string, now: number = Date.now() / 1000): OpenedRecord {
    const { bytes, found } = this.#parse(value);
    const xaes = found.key.xaes;
    if (!xaes.openSync) throw new Error("Cannot open synchronously: the backend is asynchronous");
    let plaintext: Uint8Array;
    try {
      plaintext = xaes.openSync(
        bytes.subarray(1 + KEY_ID_LENGTH, PREFIX_LENGTH),
        bytes.subarray(PREFIX_LENGTH),
        aadFor(bytes, cookieName),
      );
    } catch (error) {
      throw forged(error);
    }
    return this.#decode(plaintext, found.index, now);
  }

  /**
   * Opens a value.
   *
   * @param value The cookie value.
   * @param cookieName The cookie name it was read from.
   * @param now Current Unix time in seconds.
   * @returns The record.
   * @throws {InvalidSessionError} For every value that does not open or has expired.
   */
  async open(
    value: string,
    cookieName: string,
    now: number = Date.now() / 1000,
  ): Promise<OpenedRecord> {
    const { bytes, found } = this.#parse(value);
    let plaintext: Uint8Array;
    try {
      plaintext = await found.key.xaes.open(
        bytes.subarray(1 + KEY_ID_LENGTH, PREFIX_LENGTH),
        bytes.subarray(PREFIX_LENGTH),
        aadFor(bytes, cookieName),
      );
    } catch (error) {
      throw forged(error);
    }
    return this.#decode(plaintext, found.index, now);
  }
}

/**
 * What a failed decryption means for a session: a forged value. Only the primitive's own
 * authentication failure is; anything else (a bug, a platform failure) goes on as it is.
 */
function forged(error: unknown): unknown {
  return error instanceof XaesAuthenticationError
    ? new InvalidSessionError("forged", { cause: error })
    : error;
}

/**
 * Derives the keys of a configuration and returns a {@linkcode Sealer}. Call once at set-up.
 *
 * @param options Secrets and backend.
 * @returns The sealer.
 * @throws {SessionConfigError} When a secret is missing or shorter than 32 bytes.
 *
 * @example Sealing a record for the cookie "session" and opening it again
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSealer } from "./seal.ts";
 *
 * const sealer = await createSealer({ secrets: ["a secret of at least thirty-two bytes!"] });
 * const now = Math.floor(Date.now() / 1000);
 * const value = await sealer.seal({
 *   id: crypto.getRandomValues(new Uint8Array(16)),
 *   issuedAt: now,
 *   expiresAt: now + 3600,
 *   idleExpiresAt: 0,
 *   data: { name: "Ada" },
 * }, "session");
 * const opened = await sealer.open(value, "session");
 * assert.equal(opened.data.name, "Ada");
 * ```
 */
export async function createSealer(options: SealerOptions): Promise<Sealer> {
  return new Sealer(await deriveKeyring(options.secrets, options.backend));
}
