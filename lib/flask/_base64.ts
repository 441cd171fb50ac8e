/**
 * The two base64 dialects of a Flask cookie: base64url without padding for the cookie segments
 * (itsdangerous) and standard base64 with padding inside the ` b` bytes tag (Flask).
 *
 * Decoding is strict about the alphabet, padding and length, but like Python's `binascii` it
 * ignores the unused low bits of the last character: Flask accepts those spellings (the
 * `noncanonical-signature-trailing-bits` vector of tests/fixtures/flask_vectors.json), and they
 * carry no data.
 *
 * @module
 */

import {
  decodeBase64Url as decodeStrict,
  encodeBase64Url as encodeUrlSafe,
} from "../sealing/base64url.ts";

// One codec (lib/sealing/base64url.ts); Flask's two dialects are spellings of it.
const TO_STANDARD: Record<string, string> = { "-": "+", "_": "/" };
const FROM_STANDARD: Record<string, string> = { "+": "-", "/": "_" };
const STANDARD_ONLY = /^[A-Za-z0-9+/]*$/;

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
  return encodeUrlSafe(bytes);
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
  return decodeStrict(text, { trailingBits: "ignore" });
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
  const text = encodeUrlSafe(bytes).replace(/[-_]/g, (c) => TO_STANDARD[c]!);
  return text + "=".repeat((4 - text.length % 4) % 4);
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
  const unpadded = text.slice(0, length);
  if (!STANDARD_ONLY.test(unpadded)) return undefined;
  return decodeBase64Url(unpadded.replace(/[+/]/g, (c) => FROM_STANDARD[c]!));
}
