/**
 * What a session can hold: values that JSON carries faithfully. Anything JSON would change
 * silently (a `Date` turned into a string, a `Map` into `{}`, bytes into an object of indices,
 * `NaN` into `null`, `undefined` in a list into `null`) or cannot write at all (a `bigint`, a
 * cycle) is refused when it is stored, with the path of the offending value. A key holding
 * `undefined` is allowed: JSON drops it, and it reads back as `undefined` all the same.
 *
 * @module
 */

/**
 * Checks that a value survives a JSON round trip unchanged, and bounds its size.
 *
 * @param value The value to store.
 * @param path Where it goes, for the message (e.g. `"cart"`).
 * @returns An upper bound of the bytes of its JSON text as UTF-8 (every character counted as
 * the longest it can be written), cheap enough to take on every change.
 * @throws {TypeError} Naming the path of the first value JSON would change or refuse.
 *
 * @example Plain data passes, a Date does not
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertJsonValue } from "./json_value.ts";
 *
 * const bound = assertJsonValue({ items: [{ id: 1, note: null }] }, "cart");
 * assert.ok(bound >= JSON.stringify({ items: [{ id: 1, note: null }] }).length);
 * assert.throws(
 *   () => assertJsonValue({ items: [{ added: new Date() }] }, "cart"),
 *   { name: "TypeError", message: /"cart\.items\[0\]\.added".*of Date/ },
 * );
 * ```
 */
export function assertJsonValue(value: unknown, path: string): number {
  // Most values stored are strings: no walk for them.
  return typeof value === "string" ? stringBound(value) : check(value, path, []);
}

/** At most this many UTF-8 bytes per UTF-16 unit of a JSON string: `\u001f` is six. */
const PER_CHARACTER = 6;

/** An upper bound of a string's bytes as a JSON string. */
export function stringBound(text: string): number {
  return PER_CHARACTER * text.length + 2;
}

function check(value: unknown, path: string, parents: object[], inList = false): number {
  switch (typeof value) {
    case "string":
      return stringBound(value);
    case "boolean":
      return 5;
    case "number":
      // The longest a double is written: "-1.2345678901234567e-308".
      if (Number.isFinite(value)) return 24;
      return refuse(path, `${value} (JSON writes it as null)`, "a finite number");
    case "object":
      break;
    case "undefined":
      // A key holding undefined is dropped, and reads back as undefined all the same.
      if (!inList) return 0;
      return refuse(path, "undefined in a list (JSON writes it as null)", "null");
    case "bigint":
      return refuse(path, "a bigint (JSON cannot write it)", "a number or a string");
    default:
      return refuse(path, `a ${typeof value}`, "plain data");
  }
  if (value === null) return 4;
  if (parents.includes(value)) return refuse(path, "a cycle", "a tree of plain data");
  parents.push(value);
  // Brackets, and a comma (or colon) around each item.
  let bound = 2;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      bound += check(value[i], `${path}[${i}]`, parents, true) + 1;
    }
  } else {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      return refuse(path, describe(value), hint(value));
    }
    for (const key of Object.keys(value)) {
      bound += stringBound(key) + 2 +
        check((value as Record<string, unknown>)[key], `${path}.${key}`, parents);
    }
  }
  parents.pop();
  return bound;
}

function describe(value: object): string {
  const name = value.constructor?.name;
  return name ? `an instance of ${name}` : "an object that is not plain";
}

function hint(value: object): string {
  if (value instanceof Date) return "date.toISOString() or date.getTime()";
  if (value instanceof Map) return "Object.fromEntries(map)";
  if (value instanceof Set) return "[...set]";
  if (ArrayBuffer.isView(value)) return "a base64 string or an array of numbers";
  return "a plain object with the fields to keep";
}

function refuse(path: string, what: string, instead: string): never {
  throw new TypeError(
    `Cannot store the session value at "${path}": it is ${what}, which the session would not keep as it is; store ${instead} instead`,
  );
}
