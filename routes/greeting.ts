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

/**
 * The "Remember me on this device" checkbox: absent (unticked) or `"on"` in a form, absent,
 * `true` or `false` in JSON.
 */
export const REMEMBER_FIELD = "remember";

/** Every field of the greeting form, in form order. */
export const FORM_FIELDS = [...GREETING_FIELDS, REMEMBER_FIELD] as const;

/** For each invalid field, why: e.g. `{ name: "is required" }`. */
export type FieldErrors = Partial<Record<(typeof FORM_FIELDS)[number], string>>;

/** The outcome of {@linkcode validateGreeting}. */
export type GreetingResult =
  | { readonly ok: true; readonly greeting: Greeting; readonly remember: boolean }
  | { readonly ok: false; readonly errors: FieldErrors };

/** Options of {@linkcode validateGreeting}. */
export interface ValidateGreetingOptions {
  /**
   * How the fields were sent: a form (URL-encoded or multipart), where a ticked checkbox is
   * `"on"`, or JSON, where it is `true`.
   * @default {"form"}
   */
  encoding?: "form" | "json";
}

/**
 * Checks posted fields: `name` and `lastname` must both be present, be strings, and be 1 to
 * 100 characters once trimmed, with no control characters. `remember` must be absent or a
 * ticked checkbox: `"on"` in a form, `true` (or `false`) in JSON.
 *
 * @param fields The decoded body.
 * @param options How the body was encoded.
 * @returns The trimmed greeting and whether to remember the visitor, or a reason for each
 * invalid field.
 *
 * @example A valid greeting, one missing a field, and a form value sent as JSON
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateGreeting } from "./greeting.ts";
 *
 * const ok = validateGreeting({ name: " Ada ", lastname: "Lovelace", remember: "on" });
 * assert.ok(ok.ok);
 * assert.equal(ok.greeting.name, "Ada");
 * assert.equal(ok.remember, true);
 * const bad = validateGreeting({ name: "Ada" });
 * assert.equal(bad.ok, false);
 * assert.equal(bad.errors.lastname, "is required");
 * const json = validateGreeting({ name: "Ada", lastname: "L", remember: "on" }, {
 *   encoding: "json",
 * });
 * assert.equal(json.ok, false);
 * assert.equal(json.errors.remember, 'must be true or false, received "on"');
 * ```
 */
export function validateGreeting(
  fields: Readonly<Record<string, unknown>>,
  options: ValidateGreetingOptions = {},
): GreetingResult {
  const errors: FieldErrors = {};
  const greeting: Partial<Greeting> = {};
  for (const field of GREETING_FIELDS) {
    const value = Object.hasOwn(fields, field) ? fields[field] : undefined;
    const checked = checkName(value);
    if (typeof checked === "string") greeting[field] = checked;
    else errors[field] = checked.problem;
  }
  const remember = checkRemember(
    Object.hasOwn(fields, REMEMBER_FIELD) ? fields[REMEMBER_FIELD] : undefined,
    options.encoding ?? "form",
  );
  if (typeof remember !== "boolean") errors.remember = remember.problem;
  if (Object.keys(errors).length > 0 || typeof remember !== "boolean") return { ok: false, errors };
  return { ok: true, greeting: greeting as Greeting, remember };
}

/**
 * One sentence per invalid field, e.g. `Field "name" is required`.
 *
 * @param errors The reasons from {@linkcode validateGreeting}.
 * @returns The sentences, in form order.
 */
export function describeErrors(errors: FieldErrors): string[] {
  return FORM_FIELDS.flatMap((field) => {
    const problem = errors[field];
    return problem === undefined ? [] : [`Field "${field}" ${problem}`];
  });
}

// Control characters (C0, DEL, C1) have no place in a name and would corrupt plain-text
// answers and logs.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function checkRemember(value: unknown, encoding: "form" | "json"): boolean | { problem: string } {
  if (value === undefined) return false;
  if (encoding === "json") {
    if (typeof value === "boolean") return value;
    return { problem: `must be true or false, received ${describeValue(value)}` };
  }
  if (value === "on") return true;
  return {
    problem: `must be "on" (a ticked checkbox) or absent, received ${describeValue(value)}`,
  };
}

/** A short, quoted account of a refused value, for messages. */
function describeValue(value: unknown): string {
  if (typeof value === "string") {
    const chars = [...value];
    return JSON.stringify(chars.length > 20 ? chars.slice(0, 20).join("") + "…" : value);
  }
  if (value instanceof Blob) return "a file";
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  return typeof value === "object" ? "an object" : String(value);
}

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
