/**
 * Values that come at once from a synchronous backend and as promises from an asynchronous one,
 * handled by one code path: {@linkcode andThen} continues either, {@linkcode fail} ends either.
 *
 * @module
 */

/**
 * Continues with a value now, or with a promise's value later: `then` for a value that may or
 * may not be a promise. A value gives `onValue`'s result at once (and its throw is thrown); a
 * promise gives a promise.
 *
 * @typeParam T The value.
 * @typeParam U What `onValue` makes of it.
 * @param value The value, or a promise of it.
 * @param onValue What to do with the value.
 * @param onError What to do when the promise rejects; not called for a value (which cannot
 * fail). Without it, the rejection goes on.
 * @returns `onValue`'s result, at once for a value, as a promise for a promise.
 *
 * @example The same step over a value and a promise
 * ```ts
 * import assert from "node:assert/strict";
 * import { andThen } from "./maybe_promise.ts";
 *
 * assert.equal(andThen(20, (n) => n + 1), 21);
 * const later = andThen(Promise.resolve(20), (n) => n + 1);
 * assert.ok(later instanceof Promise);
 * assert.equal(await later, 21);
 * assert.equal(await andThen(Promise.reject(new Error("no")), () => "yes", () => "handled"), "handled");
 * ```
 */
export function andThen<T, U>(
  value: T | Promise<T>,
  onValue: (value: T) => U,
  onError?: (error: unknown) => U,
): U | Promise<U> {
  return value instanceof Promise ? value.then(onValue, onError) : onValue(value);
}

/**
 * Ends a call with an error the way its backend answers: thrown where answers come at once,
 * a rejected promise where they come later. So a caller of an asynchronous backend only ever
 * needs `catch` on the promise, and one of a synchronous backend `try`.
 *
 * @param sync True when the call answers at once.
 * @param error The error.
 * @returns A rejected promise, when `sync` is false.
 * @throws {unknown} `error`, when `sync` is true.
 *
 * @example Thrown, or rejected
 * ```ts
 * import assert from "node:assert/strict";
 * import { fail } from "./maybe_promise.ts";
 *
 * const error = new RangeError("out of range");
 * assert.throws(() => fail(true, error), RangeError);
 * await assert.rejects(fail(false, error), RangeError);
 * ```
 */
export function fail(sync: boolean, error: unknown): Promise<never> {
  if (sync) throw error;
  return Promise.reject(error);
}
