/**
 * The two base64 dialects of a Flask cookie: base64url without padding for the cookie segments
 * (itsdangerous) and standard base64 with padding inside the ` b` bytes tag (Flask).
 *
 * Decoding is strict about the alphabet, padding and length, but like Python's `binascii` it
 * ignores the unused low bits of the last character: Flask accepts those spellings (FORMAT.md
 * §5, `noncanonical-signature-trailing-bits`), and they carry no data.
 *
 * @module
 */

const STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function lookupTable(alphabet: string): Int8Array {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
}

const STANDARD_LOOKUP = lookupTable(STANDARD);
const URL_SAFE_LOOKUP = lookupTable(URL_SAFE);

function encode(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! +
      alphabet[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + (pad ? "==" : "");
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! +
      (pad ? "=" : "");
  }
  return out;
}

/** Decodes `length` characters of `text` with no padding; `undefined` if not in the alphabet. */
function decode(text: string, length: number, lookup: Int8Array): Uint8Array | undefined {
  // One character more than a multiple of four holds only 6 bits: Python refuses it too.
  if (length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor(length * 3 / 4));
  let o = 0;
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    const sextet = code < 128 ? lookup[code]! : -1;
    if (sextet < 0) return undefined;
    buffer = ((buffer << 6) | sextet) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >> bits) & 0xff;
    }
  }
  // Whatever is left in `buffer` are the unused trailing bits, ignored as Python does.
  return out;
}

/**
 * Encodes bytes as base64url without padding, as itsdangerous writes every cookie segment.
 *
 * @param bytes The bytes.
 * @returns The text, in `[A-Za-z0-9_-]`.
 *
 * @example Encoding a Flask timestamp
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBase64Url } from "./_base64.ts";
 *
 * assert.equal(encodeBase64Url(new Uint8Array([0x65, 0x53, 0xf1, 0x00])), "ZVPxAA");
 * ```
 */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encode(bytes, URL_SAFE, false);
}

/**
 * Decodes base64url without padding.
 *
 * @param text The text.
 * @returns The bytes, or `undefined` when `text` has a character outside `[A-Za-z0-9_-]`
 * (padding included) or an impossible length.
 *
 * @example Decoding a Flask timestamp
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBase64Url } from "./_base64.ts";
 *
 * assert.equal(decodeBase64Url("ZVPxAA")?.join(), "101,83,241,0");
 * assert.equal(decodeBase64Url("ZVPxAA=="), undefined);
 * ```
 */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  return decode(text, text.length, URL_SAFE_LOOKUP);
}

/**
 * Encodes bytes as standard base64 with `=` padding, as Flask's ` b` tag writes `bytes`.
 *
 * @param bytes The bytes.
 * @returns The text, in `[A-Za-z0-9+/=]`.
 *
 * @example Encoding bytes for the ` b` tag
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBase64 } from "./_base64.ts";
 *
 * assert.equal(encodeBase64(new Uint8Array([0xc3, 0xa9])), "w6k=");
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  return encode(bytes, STANDARD, true);
}

/**
 * Decodes standard base64 with its `=` padding, which Python requires as well.
 *
 * @param text The text.
 * @returns The bytes, or `undefined` when `text` is not padded base64. Python would also skip
 * characters outside the alphabet and stop at the first complete padding; we refuse those
 * spellings, which Flask never writes.
 *
 * @example Decoding the ` b` tag
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBase64 } from "./_base64.ts";
 *
 * assert.equal(decodeBase64("w6k=")?.join(), "195,169");
 * assert.equal(decodeBase64("w6k"), undefined);
 * ```
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  let length = text.length;
  if (length > 0 && text.charCodeAt(length - 1) === 0x3d) length--;
  if (length > 0 && text.charCodeAt(length - 1) === 0x3d) length--;
  return decode(text, length, STANDARD_LOOKUP);
}
