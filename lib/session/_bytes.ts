/**
 * Small byte helpers shared by the session modules and the KV layers.
 *
 * @module
 */

/**
 * Lowercase hex of bytes (session ids in the API and in Deno KV keys).
 *
 * @param bytes The bytes.
 * @returns Two hex digits per byte.
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
 */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
