/**
 * JSON text exactly as Python's `json` module reads and writes it with Flask's settings
 * (`sort_keys=True`, `ensure_ascii=True`, `separators=(",", ":")`, `allow_nan=True`).
 *
 * `JSON.parse` cannot be used: Python writes `NaN`, `Infinity` and `-Infinity` bare and integers
 * of any size, and Flask reads them back. `JSON.stringify` cannot be used either: Python sorts
 * keys by code point and escapes every non-ASCII character.
 *
 * @module
 */

import { formatPythonNumber } from "./_python_number.ts";

/** A value of the JSON data model, with `bigint` for integers beyond 2^53 - 1. */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * The deepest nesting of arrays and objects read or written. Flask's own limit comes from
 * Python's recursion limit and sits near 495 levels in a shallow call stack (found by bisection
 * with Flask 3.1.3), lower in a real request; 256 stays clear of it while no real session comes
 * close.
 */
export const MAX_JSON_DEPTH = 256;

/** Python 3.11+ refuses to convert longer digit strings to `int` (`sys.int_info`). */
export const MAX_INT_DIGITS = 4300;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Parses JSON text as Python's `json.loads` does.
 *
 * Differences from `JSON.parse`: `NaN`, `Infinity` and `-Infinity` are numbers; an integer
 * beyond 2^53 - 1 becomes an exact `bigint` and one of more than 4300 digits is an error; the
 * integer `-0` is `0` (the float `-0.0` stays `-0`); a `__proto__` key is an own property;
 * nesting deeper than {@linkcode MAX_JSON_DEPTH} is an error. Like Python: only space, tab, CR
 * and LF are whitespace (a BOM is an error), a repeated key keeps its last value.
 *
 * @param text The JSON text.
 * @returns The value; objects are plain objects.
 * @throws {SyntaxError} When Python would not parse `text`, or it is nested too deep.
 *
 * @example Reading what Python wrote
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePythonJson } from "./_python_json.ts";
 *
 * const value = parsePythonJson('{"big":9223372036854775808,"nan":NaN}') as Record<string, unknown>;
 * assert.equal(value.big, 9223372036854775808n);
 * assert.ok(Number.isNaN(value.nan));
 * ```
 */
export function parsePythonJson(text: string): JsonValue {
  return new Parser(text).parseDocument();
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

class Parser {
  #text: string;
  #pos = 0;

  constructor(text: string) {
    this.#text = text;
  }

  parseDocument(): JsonValue {
    const value = this.#value(0);
    this.#skipWhitespace();
    if (this.#pos !== this.#text.length) this.#fail("extra data");
    return value;
  }

  #fail(what: string): never {
    throw new SyntaxError(`Cannot parse Python JSON: ${what} at position ${this.#pos}`);
  }

  #skipWhitespace(): void {
    const text = this.#text;
    let c = text.charCodeAt(this.#pos);
    // Python's whitespace: space, tab, LF, CR; nothing else (no BOM, no NBSP).
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++this.#pos);
  }

  #literal(word: string, value: JsonValue): JsonValue {
    if (!this.#text.startsWith(word, this.#pos)) this.#fail("unexpected character");
    this.#pos += word.length;
    return value;
  }

  #value(depth: number): JsonValue {
    this.#skipWhitespace();
    const c = this.#text.charCodeAt(this.#pos);
    switch (c) {
      case 0x7b: // {
        return this.#object(depth + 1);
      case 0x5b: // [
        return this.#array(depth + 1);
      case 0x22: // "
        return this.#string();
      case 0x74: // t
        return this.#literal("true", true);
      case 0x66: // f
        return this.#literal("false", false);
      case 0x6e: // n
        return this.#literal("null", null);
      case 0x4e: // N
        return this.#literal("NaN", NaN);
      case 0x49: // I
        return this.#literal("Infinity", Infinity);
      case 0x2d: // -
        if (this.#text.charCodeAt(this.#pos + 1) === 0x49) {
          return this.#literal("-Infinity", -Infinity);
        }
        return this.#number();
      default:
        if (c >= 0x30 && c <= 0x39) return this.#number();
        return this.#fail(Number.isNaN(c) ? "unexpected end" : "unexpected character");
    }
  }

  #enter(depth: number): void {
    if (depth > MAX_JSON_DEPTH) this.#fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    this.#pos++;
    this.#skipWhitespace();
  }

  #object(depth: number): JsonValue {
    this.#enter(depth);
    const object: { [key: string]: JsonValue } = {};
    if (this.#text.charCodeAt(this.#pos) === 0x7d) {
      this.#pos++;
      return object;
    }
    for (;;) {
      if (this.#text.charCodeAt(this.#pos) !== 0x22) this.#fail("expected a key");
      const key = this.#string();
      this.#skipWhitespace();
      if (this.#text.charCodeAt(this.#pos) !== 0x3a) this.#fail("expected ':'");
      this.#pos++;
      const value = this.#value(depth);
      if (key === "__proto__") {
        // Plain assignment would replace the prototype instead of adding the key.
        Object.defineProperty(object, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        object[key] = value;
      }
      this.#skipWhitespace();
      const c = this.#text.charCodeAt(this.#pos++);
      if (c === 0x7d) return object;
      if (c !== 0x2c) this.#fail("expected ',' or '}'");
      this.#skipWhitespace();
    }
  }

  #array(depth: number): JsonValue {
    this.#enter(depth);
    const array: JsonValue[] = [];
    if (this.#text.charCodeAt(this.#pos) === 0x5d) {
      this.#pos++;
      return array;
    }
    for (;;) {
      array.push(this.#value(depth));
      this.#skipWhitespace();
      const c = this.#text.charCodeAt(this.#pos++);
      if (c === 0x5d) return array;
      if (c !== 0x2c) this.#fail("expected ',' or ']'");
    }
  }

  #string(): string {
    const text = this.#text;
    let pos = this.#pos + 1;
    let out = "";
    let chunk = pos;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) break;
      if (c < 0x20 || Number.isNaN(c)) {
        this.#pos = pos;
        this.#fail(Number.isNaN(c) ? "unterminated string" : "control character in string");
      }
      if (c !== 0x5c) {
        pos++;
        continue;
      }
      out += text.slice(chunk, pos);
      const escape = text[pos + 1] ?? "";
      if (escape === "u") {
        const hex = text.slice(pos + 2, pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          this.#pos = pos;
          this.#fail("invalid \\u escape");
        }
        // Lone surrogates are kept, as Python keeps them; pairs join by themselves in UTF-16.
        out += String.fromCharCode(parseInt(hex, 16));
        pos += 6;
      } else {
        const replacement = SIMPLE_ESCAPES[escape];
        if (replacement === undefined) {
          this.#pos = pos;
          this.#fail("invalid escape");
        }
        out += replacement;
        pos += 2;
      }
      chunk = pos;
    }
    this.#pos = pos + 1;
    return out + text.slice(chunk, pos);
  }

  #number(): JsonValue {
    const text = this.#text;
    const start = this.#pos;
    let pos = start;
    if (text.charCodeAt(pos) === 0x2d) pos++;
    const first = text.charCodeAt(pos);
    if (first === 0x30) {
      pos++;
    } else if (first >= 0x31 && first <= 0x39) {
      while (isDigit(text.charCodeAt(pos))) pos++;
    } else {
      this.#pos = pos;
      this.#fail("expected a digit");
    }
    const intEnd = pos;
    let isFloat = false;
    if (text.charCodeAt(pos) === 0x2e && isDigit(text.charCodeAt(pos + 1))) {
      isFloat = true;
      pos += 2;
      while (isDigit(text.charCodeAt(pos))) pos++;
    }
    const e = text.charCodeAt(pos);
    if (e === 0x65 || e === 0x45) {
      // Python backtracks over an exponent without digits, which then fails as extra data.
      let exp = pos + 1;
      const sign = text.charCodeAt(exp);
      if (sign === 0x2b || sign === 0x2d) exp++;
      if (isDigit(text.charCodeAt(exp))) {
        isFloat = true;
        while (isDigit(text.charCodeAt(exp))) exp++;
        pos = exp;
      }
    }
    this.#pos = pos;
    const token = text.slice(start, pos);
    if (isFloat) return Number(token);
    const digits = intEnd - start - (text.charCodeAt(start) === 0x2d ? 1 : 0);
    if (digits > MAX_INT_DIGITS) this.#fail(`integer longer than ${MAX_INT_DIGITS} digits`);
    if (digits <= 15) {
      const n = Number(token);
      // The int -0 is 0 in Python; only the float -0.0 keeps its sign.
      return n === 0 ? 0 : n;
    }
    const big = BigInt(token);
    return big >= -MAX_SAFE && big <= MAX_SAFE ? Number(big) : big;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Writes a JSON value as Flask's `json.dumps` does: keys sorted by Unicode code point, every
 * character outside U+0020–U+007E escaped (lowercase `\uXXXX`, surrogate pairs for astral
 * characters), no whitespace, numbers as Python prints them.
 *
 * @param value The value; objects must be plain objects.
 * @returns ASCII-only JSON text.
 * @throws {RangeError} For a `bigint` of more than 4300 digits, which Python cannot read back.
 *
 * @example Writing what Flask writes
 * ```ts
 * import assert from "node:assert/strict";
 * import { stringifyPythonJson } from "./_python_json.ts";
 *
 * const text = stringifyPythonJson({ name: "José", b: 1.5e-7, a: [2n ** 64n] });
 * assert.equal(text, '{"a":[18446744073709551616],"b":1.5e-07,"name":"Jos\\u00e9"}');
 * ```
 */
export function stringifyPythonJson(value: JsonValue): string {
  const parts: string[] = [];
  write(value, parts);
  return parts.join("");
}

function write(value: JsonValue, out: string[]): void {
  switch (typeof value) {
    case "string":
      out.push(quote(value));
      return;
    case "number":
      out.push(formatPythonNumber(value));
      return;
    case "bigint": {
      const text = value.toString();
      if (text.length - (value < 0n ? 1 : 0) > MAX_INT_DIGITS) {
        throw new RangeError(
          `Cannot write an integer Python can read: more than ${MAX_INT_DIGITS} digits`,
        );
      }
      out.push(text);
      return;
    }
    case "boolean":
      out.push(value ? "true" : "false");
      return;
  }
  if (value === null) {
    out.push("null");
  } else if (Array.isArray(value)) {
    out.push("[");
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(",");
      write(value[i]!, out);
    }
    out.push("]");
  } else {
    const keys = Object.keys(value);
    keys.sort(keys.some(hasSurrogate) ? compareCodePoints : undefined);
    out.push("{");
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      out.push(i > 0 ? "," : "", quote(key), ":");
      write(value[key]!, out);
    }
    out.push("}");
  }
}

const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const SHORT_ESCAPES: Record<number, string> = {
  0x22: '\\"',
  0x5c: "\\\\",
  0x0a: "\\n",
  0x0d: "\\r",
  0x09: "\\t",
  0x08: "\\b",
  0x0c: "\\f",
};

/** Python's `ensure_ascii` string encoder (`c_encode_basestring_ascii`). */
function quote(text: string): string {
  if (PLAIN.test(text)) return `"${text}"`;
  let out = '"';
  let chunk = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    // UTF-16 units escaped one by one give Python's surrogate pairs for astral characters.
    out += text.slice(chunk, i) + (SHORT_ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, "0")}`);
    chunk = i + 1;
  }
  return `${out}${text.slice(chunk)}"`;
}

function hasSurrogate(text: string): boolean {
  return /[\ud800-\udfff]/.test(text);
}

/**
 * Python's `str` order: by code point. JavaScript's default sort compares UTF-16 units, which
 * puts astral characters (surrogates, 0xD800–0xDFFF) before U+E000–U+FFFF.
 */
function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) return ca - cb;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  return (a.length - i) - (b.length - j);
}
