/**
 * Strict base64url without padding (RFC 4648 §5). Strict means one spelling per byte string:
 * a value with characters outside the alphabet, an impossible length or non-zero unused bits is
 * refused, so no two cookie values open to the same sealed bytes.
 *
 * @module
 */

import { type NodeBuffer, nodeBuffer } from "../cipher/node_crypto.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const ALPHABET_ONLY = /^[A-Za-z0-9_-]*$/;
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

// Buffer's native codec is faster than a JavaScript loop (bench/seal_bench.ts); nodeBuffer()
// gives it only once it costs no load of Node's built-ins (see node_crypto.ts), asked again
// until then.
let buffer: NodeBuffer | undefined;

/**
 * Encodes bytes as base64url without padding.
 *
 * @param bytes The bytes.
 * @returns The text.
 *
 * @example Encoding bytes for a cookie value
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBase64Url } from "./base64url.ts";
 *
 * assert.equal(encodeBase64Url(new Uint8Array([0xfb, 0xff])), "-_8");
 * ```
 */
export function encodeBase64Url(bytes: Uint8Array): string {
  const node = buffer ??= nodeBuffer();
  if (node) {
    return node.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length)
      .toString("base64url");
  }
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! +
      ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

/** Options of {@linkcode decodeBase64Url}. */
export interface DecodeBase64UrlOptions {
  /**
   * What to do with non-zero unused bits in the last character. `"reject"` keeps one spelling
   * per byte string (sealed cookies); `"ignore"` drops them as Python's `binascii` does, which
   * Flask cookies need (docs/flask-format.md §5).
   * @default {"reject"}
   */
  trailingBits?: "reject" | "ignore";
}

/**
 * Decodes strict base64url without padding.
 *
 * @param text The text.
 * @param options Whether unused trailing bits are refused (the default) or ignored.
 * @returns The bytes, or `undefined` when `text` is not canonical base64url.
 *
 * @example Decoding, and refusing a non-canonical spelling
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBase64Url } from "./base64url.ts";
 *
 * assert.equal(decodeBase64Url("-_8")?.join(), "251,255");
 * assert.equal(decodeBase64Url("-_9"), undefined); // non-zero unused bits
 * assert.equal(decodeBase64Url("-_9", { trailingBits: "ignore" })?.join(), "251,255");
 * ```
 */
export function decodeBase64Url(
  text: string,
  options?: DecodeBase64UrlOptions,
): Uint8Array | undefined {
  const rest = text.length % 4;
  if (rest === 1) return undefined;
  if (!ALPHABET_ONLY.test(text)) return undefined;
  if (rest !== 0) {
    const last = LOOKUP[text.charCodeAt(text.length - 1)]!;
    const unused = rest === 2 ? 15 : 3;
    if ((last & unused) !== 0) {
      if (options?.trailingBits !== "ignore") return undefined;
      text = text.slice(0, -1) + ALPHABET[last & ~unused];
    }
  }
  const node = buffer ??= nodeBuffer();
  if (node) {
    const b = node.from(text, "base64url");
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  }
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let o = 0;
  let i = 0;
  for (; i + 3 < text.length; i += 4) {
    const n = (LOOKUP[text.charCodeAt(i)]! << 18) | (LOOKUP[text.charCodeAt(i + 1)]! << 12) |
      (LOOKUP[text.charCodeAt(i + 2)]! << 6) | LOOKUP[text.charCodeAt(i + 3)]!;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  if (rest >= 2) {
    const n = (LOOKUP[text.charCodeAt(i)]! << 18) | (LOOKUP[text.charCodeAt(i + 1)]! << 12) |
      (rest === 3 ? LOOKUP[text.charCodeAt(i + 2)]! << 6 : 0);
    out[o++] = n >> 16;
    if (rest === 3) out[o++] = (n >> 8) & 255;
  }
  return out;
}
