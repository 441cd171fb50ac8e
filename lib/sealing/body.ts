/**
 * The session body: the JSON text sealed in a cookie (or kept in a store) for the session's data
 * and flash values. No cryptography here: `seal.ts` encrypts what this writes.
 *
 * @module
 */

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
 * import { encodeBody } from "./body.ts";
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
 * import { decodeBody } from "./body.ts";
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
