/**
 * Flask's tagged JSON (`flask/json/tag.py`): how values JSON has no type for travel as one-key
 * objects whose key starts with a space, mapped to JavaScript types.
 *
 * | tag | Python | JavaScript (read) | JavaScript (write) |
 * |---|---|---|---|
 * | ` t` | `tuple` | `Array` | never (arrays are lists) |
 * | ` b` | `bytes` | `Uint8Array` | `Uint8Array` |
 * | ` m` | `Markup` | `string` | never |
 * | ` u` | `UUID` | `string`, lowercase and hyphenated | never |
 * | ` d` | `datetime` | `Date` | `Date` |
 * | ` di` | a one-key `dict` whose key is a tag | plain object | plain object |
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "./_base64.ts";
import { formatHttpDate, parseHttpDate } from "./_http_date.ts";
import { type JsonValue, MAX_JSON_DEPTH } from "./_python_json.ts";

/** The registered tag keys; only a one-key object with one of these keys is a tagged value. */
export const TAG_KEYS: ReadonlySet<string> = new Set([" di", " t", " b", " m", " u", " d"]);

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Tags a session value as Flask's `TaggedJSONSerializer.tag` does, ready to be written as JSON.
 *
 * Supported: `string`, `number`, `bigint`, `boolean`, `null`, arrays, plain objects,
 * `Uint8Array` (` b`) and `Date` (` d`). An object property whose value is `undefined` is left
 * out, as `JSON.stringify` does; a one-key object whose key is a tag key is wrapped in ` di`,
 * or Flask would read it as a tagged value.
 *
 * @param value The session data.
 * @returns The tagged JSON value.
 * @throws {TypeError} For any other value (`undefined` in an array, functions, symbols, `Map`,
 * class instances, other typed arrays) and for circular references.
 * @throws {RangeError} For a `Date` outside the years 100 to 9999 or nesting deeper than
 * {@linkcode MAX_JSON_DEPTH}.
 *
 * @example Tagging bytes and a dict that looks like a tag
 * ```ts
 * import assert from "node:assert/strict";
 * import { tagValue } from "./_tagged_json.ts";
 *
 * const tagged = tagValue({ raw: new Uint8Array([1]), odd: { " t": 1 } });
 * assert.equal(JSON.stringify(tagged), '{"raw":{" b":"AQ=="},"odd":{" di":{" t__":1}}}');
 * ```
 */
export function tagValue(value: unknown): JsonValue {
  return new Tagger().tag(value, 1);
}

class Tagger {
  #ancestors = new Set<object>();
  #path: string[] = [];

  #error(ErrorClass: typeof TypeError | typeof RangeError, what: string): Error {
    return new ErrorClass(`Cannot seal a Flask session: ${what} at session${this.#path.join("")}`);
  }

  /** `level`: the JSON nesting level `value` opens if it is an array or object. */
  tag(value: unknown, level: number): JsonValue {
    switch (typeof value) {
      case "string":
      case "number":
      case "bigint":
      case "boolean":
        return value;
      case "object":
        if (value === null) return null;
        break;
      default:
        throw this.#error(TypeError, `${typeof value} is not supported`);
    }
    if (level > MAX_JSON_DEPTH) {
      throw this.#error(RangeError, `nesting is deeper than ${MAX_JSON_DEPTH}`);
    }
    if (value instanceof Uint8Array) return { " b": encodeBase64(value) };
    if (value instanceof Date) {
      try {
        return { " d": formatHttpDate(value) };
      } catch (error) {
        throw this.#error(RangeError, (error as Error).message);
      }
    }
    if (this.#ancestors.has(value)) throw this.#error(TypeError, "circular reference");
    this.#ancestors.add(value);
    try {
      if (Array.isArray(value)) return this.#list(value, level);
      if (isPlainObject(value)) return this.#dict(value, level);
    } finally {
      this.#ancestors.delete(value);
    }
    const name = value.constructor?.name ?? "object";
    throw this.#error(TypeError, `${name} is not supported`);
  }

  #list(value: readonly unknown[], level: number): JsonValue[] {
    const out: JsonValue[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      this.#path.push(`[${i}]`);
      if (value[i] === undefined) throw this.#error(TypeError, "undefined is not supported");
      out[i] = this.tag(value[i], level + 1);
      this.#path.pop();
    }
    return out;
  }

  #dict(value: Record<string, unknown>, level: number): JsonValue {
    const keys = Object.keys(value).filter((key) => value[key] !== undefined);
    if (keys.length === 1 && TAG_KEYS.has(keys[0]!)) {
      // TagDict: {" t": x} is written {" di": {" t__": x}}, one level deeper.
      const key = keys[0]!;
      if (level + 1 > MAX_JSON_DEPTH) {
        throw this.#error(RangeError, `nesting is deeper than ${MAX_JSON_DEPTH}`);
      }
      this.#path.push(`[${JSON.stringify(key)}]`);
      const inner = this.tag(value[key], level + 2);
      this.#path.pop();
      return { " di": { [`${key}__`]: inner } };
    }
    const out: { [key: string]: JsonValue } = {};
    for (const key of keys) {
      this.#path.push(`[${JSON.stringify(key)}]`);
      const tagged = this.tag(value[key], level + 1);
      this.#path.pop();
      if (key === "__proto__") {
        // Plain assignment would replace the prototype instead of adding the key.
        Object.defineProperty(out, key, {
          value: tagged,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        out[key] = tagged;
      }
    }
    return out;
  }
}

/**
 * Replaces tagged values by their JavaScript form, bottom-up, as Flask's `_untag_scan` does.
 *
 * Only objects with exactly one key that is a registered tag key are untagged. A tag whose
 * content is not of the JSON type Flask writes is refused, even where Python would make
 * something of it (`tuple("ab")`, `Markup(1)`, a ` di` with two keys), because Flask never
 * writes those; so are base64 spellings Python would read only by skipping junk.
 *
 * @param value Parsed JSON; arrays and objects are modified in place.
 * @returns The untagged value.
 * @throws {SyntaxError} For a tag Flask would fail on or that we refuse.
 *
 * @example Untagging a tuple and a datetime
 * ```ts
 * import assert from "node:assert/strict";
 * import { untagValue } from "./_tagged_json.ts";
 *
 * const value = untagValue({ t: { " t": [1, 2] }, d: { " d": "Sat, 01 Jan 2000 00:00:00 GMT" } });
 * const { t, d } = value as { t: number[]; d: Date };
 * assert.ok(Array.isArray(t));
 * assert.equal(d.toISOString(), "2000-01-01T00:00:00.000Z");
 * ```
 */
export function untagValue(value: JsonValue): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    const list = value as unknown[];
    for (let i = 0; i < list.length; i++) list[i] = untagValue(list[i] as JsonValue);
    return list;
  }
  const dict = value as Record<string, unknown>;
  let count = 0;
  let only = "";
  for (const key in dict) {
    // The parser made every key an own data property, "__proto__" too, so this assigns it.
    dict[key] = untagValue(dict[key] as JsonValue);
    count++;
    only = key;
  }
  return count === 1 && TAG_KEYS.has(only) ? fromTag(only, dict[only]) : dict;
}

function refuse(tag: string, what: string): never {
  throw new SyntaxError(`Cannot read the Flask tag "${tag}": ${what}`);
}

function fromTag(tag: string, content: unknown): unknown {
  switch (tag) {
    case " t":
      if (!Array.isArray(content)) refuse(tag, "not an array");
      return content;
    case " b": {
      if (typeof content !== "string") refuse(tag, "not a string");
      return decodeBase64(content) ?? refuse(tag, "not padded standard base64");
    }
    case " m":
      if (typeof content !== "string") refuse(tag, "not a string");
      return content;
    case " u":
      if (typeof content !== "string") refuse(tag, "not a string");
      return normalizeUuid(content) ?? refuse(tag, "not a UUID");
    case " d":
      if (typeof content !== "string") refuse(tag, "not a string");
      return parseHttpDate(content);
    default: {
      // " di": {"<key>__": value} → {"<key>": value}.
      if (
        typeof content !== "object" || content === null || Array.isArray(content) ||
        !isPlainObject(content)
      ) {
        return refuse(tag, "not an object");
      }
      const keys = Object.keys(content);
      if (keys.length !== 1) refuse(tag, "not exactly one key");
      const key = keys[0]!;
      // Python's key[:-2] drops two code points, whatever they are.
      const points = Array.from(key);
      // A computed key defines an own property, even for "__proto__".
      return { [points.slice(0, Math.max(0, points.length - 2)).join("")]: content[key] };
    }
  }
}

/**
 * Python's `uuid.UUID(text)`: `urn:` and `uuid:` removed, braces stripped from both ends, all
 * hyphens removed, then 32 hex digits in any case. (Python's `int(…, 16)` would also take `_`,
 * a sign or surrounding spaces; Flask writes 32 lowercase hex digits, so those are refused.)
 */
function normalizeUuid(text: string): string | undefined {
  const hex = text.replaceAll("urn:", "").replaceAll("uuid:", "").replace(/^[{}]+|[{}]+$/g, "")
    .replaceAll("-", "").toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}
