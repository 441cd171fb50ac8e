/**
 * The greeting: what the session stores, and the rules a posted greeting must follow.
 * Pure functions, no Hono types.
 *
 * @module
 */

/**
 * What the session holds for a visitor: first and last name, each trimmed and 1 to 100
 * characters. A type alias, not an interface, so that it fits the session's
 * `Record<string, unknown>` data constraint.
 */
export type Greeting = { name: string; lastname: string };

/** The fields of a {@linkcode Greeting}, in form order. */
export const GREETING_FIELDS = ["name", "lastname"] as const;

/** Longest name accepted, in characters (Unicode code points). */
export const MAX_NAME_LENGTH = 100;

/** For each invalid field, why: e.g. `{ name: "is required" }`. */
export type FieldErrors = Partial<Record<keyof Greeting, string>>;

/** The outcome of {@linkcode validateGreeting}. */
export type GreetingResult =
  | { readonly ok: true; readonly greeting: Greeting }
  | { readonly ok: false; readonly errors: FieldErrors };

/**
 * Checks posted fields: `name` and `lastname` must both be present, be strings, and be 1 to
 * 100 characters once trimmed, with no control characters.
 *
 * @param fields The decoded body.
 * @returns The trimmed greeting, or a reason for each invalid field.
 *
 * @example A valid greeting and one missing a field
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateGreeting } from "./greeting.ts";
 *
 * const ok = validateGreeting({ name: " Ada ", lastname: "Lovelace" });
 * assert.ok(ok.ok);
 * assert.equal(ok.greeting.name, "Ada");
 * const bad = validateGreeting({ name: "Ada" });
 * assert.equal(bad.ok, false);
 * assert.equal(bad.errors.lastname, "is required");
 * ```
 */
export function validateGreeting(fields: Readonly<Record<string, unknown>>): GreetingResult {
  const errors: FieldErrors = {};
  const greeting: Partial<Greeting> = {};
  for (const field of GREETING_FIELDS) {
    const value = Object.hasOwn(fields, field) ? fields[field] : undefined;
    const checked = checkName(value);
    if (typeof checked === "string") greeting[field] = checked;
    else errors[field] = checked.problem;
  }
  if (errors.name !== undefined || errors.lastname !== undefined) return { ok: false, errors };
  return { ok: true, greeting: greeting as Greeting };
}

/**
 * One sentence per invalid field, e.g. `Field "name" is required`.
 *
 * @param errors The reasons from {@linkcode validateGreeting}.
 * @returns The sentences, in form order.
 */
export function describeErrors(errors: FieldErrors): string[] {
  return GREETING_FIELDS.flatMap((field) => {
    const problem = errors[field];
    return problem === undefined ? [] : [`Field "${field}" ${problem}`];
  });
}

// Control characters (C0, DEL, C1) have no place in a name and would corrupt plain-text
// answers and logs.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function checkName(value: unknown): string | { problem: string } {
  if (value === undefined || value === null) return { problem: "is required" };
  if (typeof value !== "string") {
    const kind = value instanceof Blob
      ? "a file"
      : Array.isArray(value)
      ? "an array"
      : typeof value;
    return { problem: `must be a string, received ${kind}` };
  }
  const trimmed = value.trim();
  if (trimmed === "") {
    return { problem: value === "" ? "is required" : "must not be blank (whitespace only)" };
  }
  let length = 0;
  for (const _ of trimmed) length++;
  if (length > MAX_NAME_LENGTH) {
    return { problem: `must be at most ${MAX_NAME_LENGTH} characters, received ${length}` };
  }
  if (CONTROL.test(trimmed)) return { problem: "must not contain control characters" };
  return trimmed;
}
