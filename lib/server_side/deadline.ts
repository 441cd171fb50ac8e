/**
 * A bound on how long a server-side call (Deno KV, Redis) may take: a store that hangs must
 * fail a request, not hold it (and every request behind it) until the store comes back.
 *
 * @module
 */

import { SessionConfigError } from "../common/errors.ts";

/**
 * Makes a function that waits for a promise at most `timeoutMs`, validating the bound once.
 *
 * @param timeoutMs Longest wait, in milliseconds.
 * @param option The option's name, for the error at set-up.
 * @returns A function that settles as the promise does, or rejects with an `Error` saying no
 * reply came in time; the promise itself is left to settle on its own.
 * @throws {SessionConfigError} When `timeoutMs` is not a number above 0.
 *
 * @example A call that never answers
 * ```ts
 * import assert from "node:assert/strict";
 * import { deadline } from "./deadline.ts";
 *
 * const within = deadline(20);
 * assert.equal(await within(Promise.resolve("fast")), "fast");
 * await assert.rejects(within(new Promise(() => {})), /no reply within 20 ms/);
 * ```
 */
export function deadline(
  timeoutMs: number,
  option = "timeoutMs",
): <T>(promise: Promise<T>) => Promise<T> {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new SessionConfigError(
      option,
      `must be a number of milliseconds > 0, received ${timeoutMs}`,
    );
  }
  return (promise) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no reply within ${timeoutMs} ms`)),
        timeoutMs,
      );
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
}
