/**
 * Seals session records into compact cookie values and opens them again. The byte layout is
 * documented in `docs/seal-format.md`:
 *
 * ```
 * value     = base64url( version || keyId || nonce || ciphertext || tag )
 * aad       = version || keyId || cookieName
 * plaintext = headerLength || sessionId || issuedAt || expiresAt || idleExpiresAt || flags
 *             || issuedAtMillis || sealedAt || subjectLength || subject
 *             || [startedAt || startedAtMillis [|| handle]] || json
 * ```
 *
 * Shorter headers, sealed before their later fields existed, still open: 28 bytes (no `flags`:
 * all clear), 29 (no millisecond, sealing time or subject); without the start time, the
 * session started when it was issued; without a handle, it has none.
 *
 * One {@linkcode Sealer} for every backend: `seal()` and `open()` answer with promises; where
 * the cipher answers at once (`node:crypto`), `openNow()` opens without waiting, so that the
 * middleware can open a cookie only when a handler first touches the session.
 *
 * @module
 */

import { type NodeBuffer, nodeBuffer } from "../cipher/node_crypto.ts";
import { decodeBase64Url, encodeBase64Url } from "./base64url.ts";
import { assertKnownOptions, InvalidSessionError } from "../common/errors.ts";
import { deriveKeyring, KEY_ID_LENGTH, type Keyring, type Secret } from "./keys.ts";
import { assertUnexpired, MAX_SEALED_TIME } from "./lifetime.ts";
import { OpenCache } from "./open_cache.ts";
import type { XaesKeySet } from "../cipher/key_set.ts";
import type { XaesBackend } from "../cipher/one_shot.ts";
import { NONCE_LENGTH, TAG_LENGTH, XaesAuthenticationError } from "../cipher/xaes_key.ts";

/** The format version, first byte of every sealed value. */
export const SEAL_VERSION = 1;
/** Bytes in a session id. */
export const SESSION_ID_LENGTH = 16;
/** Bytes of the shortest plaintext header of format version 1 (after its length byte). */
export const HEADER_LENGTH_V1 = SESSION_ID_LENGTH + 12;
/** Bytes of the version-1 header with its flags byte. */
export const HEADER_LENGTH_FLAGS = HEADER_LENGTH_V1 + 1;
/**
 * Bytes of the plaintext header written now, without the subject: the flags, then the issue
 * time's milliseconds (uint16), the sealing time (uint32) and the subject's length (one byte).
 */
export const HEADER_LENGTH = HEADER_LENGTH_FLAGS + 2 + 4 + 1;
/**
 * Bytes of the optional start time after the subject (uint32 seconds, uint16 milliseconds),
 * written only when the session started before this id was issued (a `regenerate()`).
 */
export const STARTED_AT_LENGTH = 6;
/**
 * Bytes of a session's handle in its subject's list of sessions, after the start time (which is
 * then always written).
 */
export const HANDLE_LENGTH = 8;
/** Most UTF-8 bytes in a subject: what the header's length byte leaves room for, rounded down. */
export const MAX_SUBJECT_BYTES = 200;
/**
 * Flag bit: a browser-session cookie (written without `Max-Age`). Clear means persistent, which
 * is also what a header without flags (sealed before they existed) means.
 */
export const FLAG_BROWSER_SESSION = 0x01;

const PREFIX_LENGTH = 1 + KEY_ID_LENGTH + NONCE_LENGTH;
const MIN_SEALED_LENGTH = PREFIX_LENGTH + 1 + HEADER_LENGTH_V1 + 2 + TAG_LENGTH;

/** What a sealed value holds. Times are Unix seconds. */
export interface SessionRecord {
  /** Random 128-bit session id. */
  id: Uint8Array;
  /** When this session id was issued, to the millisecond (a fraction of a second). */
  issuedAt: number;
  /**
   * When the session began, to the millisecond: its first issue or its latest login (a new
   * subject), kept through `regenerate()`. Cut-offs are checked against it.
   * @default {issuedAt}
   */
  startedAt?: number | undefined;
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
  /**
   * When this value is sealed, whole seconds: how long the session has been idle is counted
   * from it, whatever idle deadline the value carries.
   * @default {Math.floor(Date.now() / 1000)}
   */
  sealedAt?: number | undefined;
  /**
   * Whom the session belongs to (a user id), at most {@linkcode MAX_SUBJECT_BYTES} of UTF-8;
   * undefined for an anonymous session.
   */
  subject?: string | undefined;
  /**
   * The session's handle in its subject's list of sessions ({@linkcode HANDLE_LENGTH} random
   * bytes, kept through `regenerate()`); undefined when it has none.
   */
  handle?: Uint8Array | undefined;
}

/** A record opened from a cookie. */
export interface OpenedRecord extends SessionRecord {
  /** When the session began: the sealed start time, else its issue time. */
  startedAt: number;
  /** When it was sealed; undefined for a value sealed before the time was recorded. */
  sealedAt: number | undefined;
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

/** Every option of {@linkcode SealerOptions}. */
const SEALER_OPTIONS: Record<keyof SealerOptions, true> = { secrets: true, backend: true };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A big-endian unsigned 32-bit integer at `at`. */
function uint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>>
    0;
}

/** Node's `Buffer`, once `nodeBuffer()` gives it (asked again until then). */
let buffer: NodeBuffer | undefined;

/**
 * UTF-8 of a session body. Buffer's encoder beats TextEncoder for short strings
 * (bench/seal_bench.ts), where it costs no load of Node's built-ins (see _node_crypto.ts).
 */
function utf8(text: string): Uint8Array {
  const node = buffer ??= nodeBuffer();
  return node ? node.from(text, "utf8") : encoder.encode(text);
}

/** The text of an opened body. */
function utf8Decode(bytes: Uint8Array): string {
  const node = buffer ??= nodeBuffer();
  // The plaintext passed GCM authentication, so it is the UTF-8 we sealed: no need for the
  // strict decoder's validation there.
  return node
    ? node.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length).toString("utf8")
    : decoder.decode(bytes);
}

/**
 * The JSON text sealed for some data and flash values: the data object alone, or
 * `[data, flash]` when there are flash values.
 *
 * @param data The session data.
 * @param flash Flash values, if any.
 * @returns The JSON text.
 * @throws {TypeError} When the data cannot be written as JSON (a bigint, a cycle).
 *
 * @example Data alone, and data with flash values
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBody } from "./sealer.ts";
 *
 * assert.equal(encodeBody({ a: 1 }), '{"a":1}');
 * assert.equal(encodeBody({ a: 1 }, { note: "hi" }), '[{"a":1},{"note":"hi"}]');
 * ```
 */
export function encodeBody(
  data: Record<string, unknown>,
  flash?: Record<string, unknown>,
): string {
  try {
    return JSON.stringify(flash && Object.keys(flash).length > 0 ? [data, flash] : data);
  } catch (cause) {
    throw new TypeError(
      "Cannot seal the session: its data is not JSON-serializable (no bigint, no cycles)",
      { cause },
    );
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads the JSON text written by {@linkcode encodeBody}.
 *
 * @param body The JSON text.
 * @returns The data and flash values, or undefined when it is not such a text.
 *
 * @example Reading flash values and refusing a non-object
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBody } from "./sealer.ts";
 *
 * assert.equal(decodeBody('[{"a":1},{"note":"hi"}]')?.flash?.note, "hi");
 * assert.equal(decodeBody("[1,2]"), undefined);
 * ```
 */
export function decodeBody(
  body: string,
): { data: Record<string, unknown>; flash: Record<string, unknown> | undefined } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  let data: unknown = parsed;
  let flash: unknown;
  if (Array.isArray(parsed) && parsed.length === 2) [data, flash] = parsed;
  if (!isObject(data) || (flash !== undefined && !isObject(flash))) return undefined;
  return { data, flash: flash as Record<string, unknown> | undefined };
}

/** The plaintext of a record: its header, then the body's UTF-8. */
function plaintextOf(record: SessionRecord, body: string): Uint8Array {
  if (record.id.length !== SESSION_ID_LENGTH) {
    throw new RangeError(
      `Cannot seal the session: id must be ${SESSION_ID_LENGTH} bytes, received ${record.id.length}`,
    );
  }
  const sealedAt = record.sealedAt ?? Math.floor(Date.now() / 1000);
  for (const field of ["issuedAt", "expiresAt", "idleExpiresAt", "sealedAt"] as const) {
    const time = field === "sealedAt" ? sealedAt : record[field];
    // Written as uint32: anything outside would silently wrap to another time.
    if (!(time >= 0 && time < MAX_SEALED_TIME + 1)) {
      throw new RangeError(
        `Cannot seal the session: ${field} must be Unix seconds from 0 to ${MAX_SEALED_TIME}, received ${time}`,
      );
    }
  }
  const subject = record.subject === undefined ? EMPTY : encoder.encode(record.subject);
  if (subject.length > MAX_SUBJECT_BYTES) {
    throw new RangeError(
      `Cannot seal the session: the subject must be at most ${MAX_SUBJECT_BYTES} bytes of UTF-8, received ${subject.length}`,
    );
  }
  const json = utf8(body);
  const { handle } = record;
  if (handle !== undefined && handle.length !== HANDLE_LENGTH) {
    throw new RangeError(
      `Cannot seal the session: the handle must be ${HANDLE_LENGTH} bytes, received ${handle.length}`,
    );
  }
  // With a handle the start time is always written: it comes first.
  const started = handle
    ? Math.round(Math.min(record.startedAt ?? record.issuedAt, record.issuedAt) * 1000)
    : startedBefore(record);
  const headerLength = HEADER_LENGTH + subject.length +
    (handle ? STARTED_AT_LENGTH + HANDLE_LENGTH : started ? STARTED_AT_LENGTH : 0);
  const plaintext = new Uint8Array(1 + headerLength + json.length);
  const view = new DataView(plaintext.buffer);
  const issued = Math.floor(record.issuedAt);
  plaintext[0] = headerLength;
  plaintext.set(record.id, 1);
  view.setUint32(1 + SESSION_ID_LENGTH, issued);
  view.setUint32(5 + SESSION_ID_LENGTH, Math.floor(record.expiresAt));
  view.setUint32(9 + SESSION_ID_LENGTH, Math.floor(record.idleExpiresAt));
  plaintext[1 + HEADER_LENGTH_V1] = record.persistent === false ? FLAG_BROWSER_SESSION : 0;
  view.setUint16(
    1 + HEADER_LENGTH_FLAGS,
    Math.min(999, Math.round((record.issuedAt - issued) * 1000)),
  );
  view.setUint32(3 + HEADER_LENGTH_FLAGS, Math.floor(sealedAt));
  plaintext[7 + HEADER_LENGTH_FLAGS] = subject.length;
  plaintext.set(subject, 1 + HEADER_LENGTH);
  if (started || handle) {
    const at = 1 + HEADER_LENGTH + subject.length;
    view.setUint32(at, Math.floor(started / 1000));
    view.setUint16(at + 4, started % 1000);
    if (handle) plaintext.set(handle, at + STARTED_AT_LENGTH);
  }
  plaintext.set(json, 1 + headerLength);
  return plaintext;
}

/**
 * The start time to seal, in whole milliseconds: only when it lies before the issue time (the
 * id was regenerated); 0 when the header leaves it out.
 */
function startedBefore(record: SessionRecord): number {
  if (record.startedAt === undefined) return 0;
  const started = Math.round(record.startedAt * 1000);
  if (!(started >= 0 && started < Math.round(record.issuedAt * 1000))) return 0;
  return started;
}

const EMPTY = new Uint8Array(0);

/**
 * Bytes a sealed value of a record takes as cookie text, before it is written: the value is
 * base64url of the prefix, the plaintext and the tag, so its length follows from theirs.
 *
 * @param bodyBytes UTF-8 bytes of the record's JSON body.
 * @param headerBytes Header bytes beyond the fixed fields: the subject's UTF-8, the start time.
 * @returns Characters of the cookie value.
 *
 * @example The length of a sealed greeting
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSealer, sealedLength } from "./sealer.ts";
 *
 * const sealer = await createSealer({ secrets: ["a secret of at least thirty-two bytes!"] });
 * const body = JSON.stringify({ name: "Ada", lastname: "Lovelace" });
 * const now = Math.floor(Date.now() / 1000);
 * const value = await sealer.seal({ id: new Uint8Array(16), issuedAt: now, expiresAt: now + 60, idleExpiresAt: 0, data: {} }, "session", body);
 * assert.equal(value.length, sealedLength(body.length, 0));
 * ```
 */
export function sealedLength(bodyBytes: number, headerBytes: number): number {
  return Math.ceil(
    ((PREFIX_LENGTH + 1 + HEADER_LENGTH + headerBytes + bodyBytes + TAG_LENGTH) * 4) / 3,
  );
}

/**
 * The cookie value of a sealed message: the key sealed `nonce || ciphertext || tag` after room
 * for the version and key id, which are the first bytes of the authenticated data.
 */
function cookieValue(sealed: Uint8Array, aad: Uint8Array): string {
  for (let i = 0; i < 1 + KEY_ID_LENGTH; i++) sealed[i] = aad[i]!;
  return encodeBase64Url(sealed);
}

/** Decodes a value far enough to find its key; the nonce and ciphertext follow at fixed offsets. */
function parse(value: string): Uint8Array {
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
  return bytes;
}

/** The record in an opened plaintext. */
function decode(plaintext: Uint8Array, keyIndex: number): OpenedRecord {
  const headerLength = plaintext[0]!;
  // A later format version may append header fields; they are skipped, not refused.
  if (headerLength < HEADER_LENGTH_V1 || plaintext.length < 1 + headerLength) {
    throw new InvalidSessionError("malformed", { cause: new Error("short header") });
  }
  let issuedAt = uint32(plaintext, 1 + SESSION_ID_LENGTH);
  const expiresAt = uint32(plaintext, 5 + SESSION_ID_LENGTH);
  const idleExpiresAt = uint32(plaintext, 9 + SESSION_ID_LENGTH);
  // No flags byte: sealed before it existed, when every cookie was persistent. Bits this
  // version does not know are ignored, like header bytes it does not know.
  const flags = headerLength > HEADER_LENGTH_V1 ? plaintext[1 + HEADER_LENGTH_V1]! : 0;
  let sealedAt: number | undefined;
  let subject: string | undefined;
  let startedAt: number | undefined;
  let handle: Uint8Array | undefined;
  if (headerLength >= HEADER_LENGTH) {
    // Sealed before these existed: the issue time counts as the start of its second (which a
    // cut-off at that second refuses), the sealing time and the subject as unknown.
    issuedAt += Math.min(
      999,
      (plaintext[1 + HEADER_LENGTH_FLAGS]! << 8) | plaintext[2 + HEADER_LENGTH_FLAGS]!,
    ) / 1000;
    sealedAt = uint32(plaintext, 3 + HEADER_LENGTH_FLAGS);
    const subjectLength = plaintext[7 + HEADER_LENGTH_FLAGS]!;
    if (HEADER_LENGTH + subjectLength > headerLength) {
      throw new InvalidSessionError("malformed", { cause: new Error("subject past the header") });
    }
    if (subjectLength > 0) {
      subject = decoder.decode(
        plaintext.subarray(1 + HEADER_LENGTH, 1 + HEADER_LENGTH + subjectLength),
      );
    }
    const at = 1 + HEADER_LENGTH + subjectLength;
    if (HEADER_LENGTH + subjectLength + STARTED_AT_LENGTH <= headerLength) {
      // A start later than the issue is not one this format writes: the issue time holds.
      startedAt = Math.min(
        issuedAt,
        uint32(plaintext, at) + Math.min(999, (plaintext[at + 4]! << 8) | plaintext[at + 5]!) /
            1000,
      );
    }
    if (HEADER_LENGTH + subjectLength + STARTED_AT_LENGTH + HANDLE_LENGTH <= headerLength) {
      handle = plaintext.slice(at + STARTED_AT_LENGTH, at + STARTED_AT_LENGTH + HANDLE_LENGTH);
    }
  }
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
    startedAt: startedAt ?? issuedAt,
    expiresAt,
    idleExpiresAt,
    data,
    flash,
    persistent: (flags & FLAG_BROWSER_SESSION) === 0,
    sealedAt,
    subject,
    handle,
    keyIndex,
    body,
  };
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
 * Seals and opens session records under a keyring. Create one per configuration with
 * {@linkcode createSealer}; it keeps the derived keys, and the values it opened lately.
 *
 * @example Sealing and opening
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSealer } from "./sealer.ts";
 *
 * const sealer = await createSealer({ secrets: ["a secret of at least thirty-two bytes!"] });
 * const now = Math.floor(Date.now() / 1000);
 * const record = { id: new Uint8Array(16), issuedAt: now, expiresAt: now + 60, idleExpiresAt: 0, data: { name: "Ada" } };
 * const value = await sealer.seal(record, "session");
 * assert.equal((await sealer.open(value, "session")).data.name, "Ada");
 * await assert.rejects(sealer.open("not a sealed value", "session"));
 * ```
 *
 * @example Opening at once, where the cipher answers at once
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSealer } from "./sealer.ts";
 *
 * const sealer = await createSealer({ secrets: ["a secret of at least thirty-two bytes!"], backend: "node" });
 * const now = Math.floor(Date.now() / 1000);
 * const record = { id: new Uint8Array(16), issuedAt: now, expiresAt: now + 60, idleExpiresAt: 0, data: { name: "Ada" } };
 * const value = await sealer.seal(record, "session");
 * assert.equal(sealer.sync, true);
 * assert.equal(sealer.openNow(value, "session").data.name, "Ada"); // not a promise
 * assert.throws(() => sealer.openNow("not a sealed value", "session"));
 * ```
 */
export class Sealer {
  readonly #ids: readonly Uint8Array[];
  readonly #byId: ReadonlyMap<number, number>;
  readonly #keys: XaesKeySet;
  /** The authenticated data by key position and cookie name: a few names per app, so kept. */
  readonly #aad: Map<string, Uint8Array>[];
  readonly #opened: OpenCache;

  /**
   * Internal: use {@linkcode createSealer}, which derives the keyring.
   *
   * @param ring Derived keys, newest first.
   * @param openCacheSize Opened values remembered (see `open_cache.ts`); 0 for none.
   */
  constructor(ring: Keyring, openCacheSize = 0) {
    ({ ids: this.#ids, byId: this.#byId, keys: this.#keys } = ring);
    this.#aad = ring.ids.map(() => new Map());
    this.#opened = new OpenCache(openCacheSize);
  }

  /**
   * True when {@linkcode Sealer.openNow} can be used: the cipher answers at once
   * (`node:crypto`). An `auto` sealer started on Web Crypto (Deno 2.9+) turns true when its
   * keys move to `node:crypto`, shortly after its first message, and never turns false again.
   */
  get sync(): boolean {
    return this.#keys.sync;
  }

  /** The authenticated data: version, key id and cookie name. */
  #aadFor(index: number, cookieName: string): Uint8Array {
    const byName = this.#aad[index]!;
    let aad = byName.get(cookieName);
    if (!aad) {
      const name = encoder.encode(cookieName);
      aad = new Uint8Array(1 + KEY_ID_LENGTH + name.length);
      aad[0] = SEAL_VERSION;
      aad.set(this.#ids[index]!, 1);
      aad.set(name, 1 + KEY_ID_LENGTH);
      // Names come from the configuration, but a caller of ./seal could pass any.
      if (byName.size > 64) byName.clear();
      byName.set(cookieName, aad);
    }
    return aad;
  }

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
  async seal(record: SessionRecord, cookieName: string, body?: string): Promise<string> {
    const plaintext = plaintextOf(record, body ?? encodeBody(record.data, record.flash));
    const aad = this.#aadFor(0, cookieName);
    this.#keys.firstUse?.();
    return cookieValue(await this.#keys.keys[0]!.seal(plaintext, aad, 1 + KEY_ID_LENGTH), aad);
  }

  /**
   * Opens a value, and checks its sealed deadlines.
   *
   * @param value The cookie value.
   * @param cookieName The cookie name it was read from.
   * @param now Current Unix time in seconds.
   * @default {Date.now() / 1000}
   * @returns The record.
   * @throws {InvalidSessionError} For every value that does not open or has expired.
   */
  async open(
    value: string,
    cookieName: string,
    now: number = Date.now() / 1000,
  ): Promise<OpenedRecord> {
    const hit = this.#cached(value, cookieName, now);
    if (hit) return hit;
    const { index, bytes } = this.#locate(value);
    let plaintext: Uint8Array;
    try {
      plaintext = await this.#keys.keys[index]!.open(
        nonceOf(bytes),
        sealedOf(bytes),
        this.#aadFor(index, cookieName),
      );
    } catch (error) {
      throw forged(error);
    }
    return this.#admit(value, cookieName, plaintext, index, now);
  }

  /**
   * Opens a value at once, as {@linkcode Sealer.open} does: only while {@linkcode Sealer.sync}.
   *
   * @param value The cookie value.
   * @param cookieName The cookie name it was read from.
   * @param now Current Unix time in seconds.
   * @default {Date.now() / 1000}
   * @returns The record.
   * @throws {InvalidSessionError} For every value that does not open or has expired.
   */
  openNow(value: string, cookieName: string, now: number = Date.now() / 1000): OpenedRecord {
    const hit = this.#cached(value, cookieName, now);
    if (hit) return hit;
    const { index, bytes } = this.#locate(value);
    let plaintext: Uint8Array;
    try {
      plaintext = this.#keys.keys[index]!.open(
        nonceOf(bytes),
        sealedOf(bytes),
        this.#aadFor(index, cookieName),
      ) as Uint8Array;
    } catch (error) {
      throw forged(error);
    }
    return this.#admit(value, cookieName, plaintext, index, now);
  }

  /** An opened value's record, checked against its deadlines, then remembered. */
  #admit(
    value: string,
    cookieName: string,
    plaintext: Uint8Array,
    index: number,
    now: number,
  ): OpenedRecord {
    const record = decode(plaintext, index);
    assertUnexpired(record, now);
    this.#opened.admit(value, cookieName, record);
    return record;
  }

  /**
   * A value opened before, checked against its deadlines, with its data parsed afresh from the
   * sealed JSON.
   */
  #cached(value: string, cookieName: string, now: number): OpenedRecord | undefined {
    const hit = this.#opened.get(value, cookieName);
    if (!hit) return undefined;
    assertUnexpired(hit, now);
    const { data, flash } = decodeBody(hit.body)!;
    return {
      id: hit.id,
      issuedAt: hit.issuedAt,
      startedAt: hit.startedAt,
      expiresAt: hit.expiresAt,
      idleExpiresAt: hit.idleExpiresAt,
      data,
      flash,
      persistent: hit.persistent,
      sealedAt: hit.sealedAt,
      subject: hit.subject,
      handle: hit.handle,
      keyIndex: hit.keyIndex,
      body: hit.body,
    };
  }

  /** The bytes of a value and the position of the key it names. */
  #locate(value: string): { index: number; bytes: Uint8Array } {
    const bytes = parse(value);
    const idNumber = uint32(bytes, 1);
    this.#keys.firstUse?.();
    const index = this.#byId.get(idNumber);
    if (index === undefined) {
      throw new InvalidSessionError("unknown-key", {
        cause: new Error(`no configured secret has key id ${idNumber.toString(16)}`),
      });
    }
    return { index, bytes };
  }
}

function nonceOf(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(1 + KEY_ID_LENGTH, PREFIX_LENGTH);
}

function sealedOf(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(PREFIX_LENGTH);
}

/**
 * Derives the keys of a configuration and returns a {@linkcode Sealer}. Call once at set-up.
 *
 * @param options Secrets and backend.
 * @returns The sealer.
 * @throws {SessionConfigError} When a secret is missing or shorter than 32 bytes.
 * @throws {Error} When `backend` is `node` and `node:crypto` is not available.
 *
 * @example Sealing a record for the cookie "session" and opening it again
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSealer } from "./sealer.ts";
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
  assertKnownOptions(options, SEALER_OPTIONS);
  return new Sealer(await deriveKeyring(options.secrets, options.backend));
}

/**
 * The sealer of a middleware: {@linkcode createSealer}'s, remembering the values it opened.
 *
 * @param options Secrets and backend.
 * @param openCacheSize Opened values to remember.
 * @returns The sealer.
 */
export async function createCachingSealer(
  options: SealerOptions,
  openCacheSize: number,
): Promise<Sealer> {
  return new Sealer(await deriveKeyring(options.secrets, options.backend), openCacheSize);
}
