/**
 * Small byte helpers shared by the session modules and the server-side layers (`lib/kv`,
 * `lib/redis`), which key their entries by {@linkcode hex} of the session id.
 *
 * @module
 */

/**
 * Lowercase hex of bytes (session ids in the API and in Deno KV keys).
 *
 * @param bytes The bytes.
 * @returns Two hex digits per byte.
 *
 * @example A session id as a store key
 * ```ts
 * import assert from "node:assert/strict";
 * import { hex } from "./bytes.ts";
 *
 * assert.equal(hex(new Uint8Array([0, 15, 255])), "000fff");
 * ```
 */
export function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/**
 * Tells whether two byte strings are equal. Not constant-time: for ids and configuration, never
 * for secrets compared against input.
 *
 * @param a One.
 * @param b The other.
 * @returns True when equal.
 *
 * @example Comparing two ids
 * ```ts
 * import assert from "node:assert/strict";
 * import { sameBytes } from "./bytes.ts";
 *
 * assert.equal(sameBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
 * assert.equal(sameBytes(new Uint8Array([1, 2]), new Uint8Array([1])), false);
 * ```
 */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * Reads a big-endian unsigned 32-bit integer (key ids and the times of a sealed header). By
 * hand rather than through a `DataView`: no object per read on the per-message path.
 *
 * @param bytes The bytes.
 * @param at Offset of the first of the four bytes.
 * @returns The integer, from 0 to 2^32 - 1. Bytes past the end read as 0: check the length first.
 *
 * @example Reading a key id
 * ```ts
 * import assert from "node:assert/strict";
 * import { readUint32 } from "./bytes.ts";
 *
 * assert.equal(readUint32(new Uint8Array([0xff, 0, 0, 1, 2]), 0), 0xff00_0001);
 * assert.equal(readUint32(new Uint8Array([0xff, 0, 0, 1, 2]), 1), 0x0000_0102);
 * ```
 */
export function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>>
    0;
}

/**
 * Bytes of a string as UTF-8, without encoding it (a lone surrogate counts as the three bytes of
 * its replacement character).
 *
 * @param text The string.
 * @returns Its length in UTF-8.
 *
 * @example A session body's size
 * ```ts
 * import assert from "node:assert/strict";
 * import { utf8Length } from "./bytes.ts";
 *
 * assert.equal(utf8Length('{"name":"Zoë"}'), 15);
 * ```
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) bytes += code >= 0x800 && (code < 0xd800 || code > 0xdfff) ? 2 : 1;
  }
  return bytes;
}
