/**
 * Writes a JavaScript number the way Python's `json.dumps` writes the matching Python value.
 *
 * A JS `number` does not say whether it was an `int` or a `float`, so the rule is: a safe
 * integer is an `int`; everything else is a `float` written with Python's `repr`. `-0` is the
 * float `-0.0` and integral values beyond 2^53 are floats (`1e+16`), so every number reads back
 * as the same number, never as a `bigint`. The cost: `3.0` set by Python comes back as `3` and
 * is rewritten as the int `3`.
 *
 * @module
 */

/**
 * Formats a number as Python's `json.dumps` would format the equivalent `int` or `float`.
 *
 * Both engines print the shortest digits that round-trip (V8's `Number::toString` and Python's
 * `repr` via David Gay's algorithm), so only the layout differs: Python switches to exponent form
 * when the decimal exponent is below -4 or at least 16, always shows a fraction (`1.0`), and
 * writes at least two exponent digits (`1e-05`).
 *
 * @param value Any number.
 * @returns The JSON token; `NaN`, `Infinity` and `-Infinity` are written bare, as Python's
 * `allow_nan=True` does.
 *
 * @example Integers and floats
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPythonNumber } from "./_python_number.ts";
 *
 * assert.equal(formatPythonNumber(42), "42");
 * assert.equal(formatPythonNumber(1.5e-7), "1.5e-07");
 * assert.equal(formatPythonNumber(1e100), "1e+100");
 * assert.equal(formatPythonNumber(2 ** 53), "9007199254740992.0");
 * ```
 */
export function formatPythonNumber(value: number): string {
  if (Number.isSafeInteger(value) && !Object.is(value, -0)) return String(value);
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "Infinity";
  if (value === -Infinity) return "-Infinity";
  if (value === 0) return "-0.0";
  return (value < 0 ? "-" : "") + pythonFloatRepr(Math.abs(value));
}

/** Python's `repr` of a finite positive float. */
function pythonFloatRepr(value: number): string {
  const text = String(value);
  const e = text.indexOf("e");
  const mantissa = e < 0 ? text : text.slice(0, e);
  const dot = mantissa.indexOf(".");
  let digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  // `point`: the value is 0.<digits> × 10^point, as in dtoa's `decpt`.
  let point = (dot < 0 ? mantissa.length : dot) + (e < 0 ? 0 : Number(text.slice(e + 1)));
  let lead = 0;
  while (digits.charCodeAt(lead) === 0x30) lead++;
  digits = digits.slice(lead);
  point -= lead;
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 0x30) end--;
  digits = digits.slice(0, end);

  // CPython `format_float_short` with repr's mode 'r': exponent form iff decpt <= -4 or > 16.
  if (point <= -4 || point > 16) {
    const exponent = point - 1;
    const magnitude = String(Math.abs(exponent)).padStart(2, "0");
    const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${head}e${exponent < 0 ? "-" : "+"}${magnitude}`;
  }
  if (point <= 0) return `0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${digits}${"0".repeat(point - digits.length)}.0`;
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}
