/**
 * A wait that never keeps a process alive, on the runtime's own timer rather than the global
 * `setTimeout`: on Deno 2.9 the first call of that loads Node's timers, about 5 ms of a cold
 * start, before the first answer.
 *
 * @module
 */

/**
 * Resolves once `ms` milliseconds have passed, without holding the process open: a process
 * with nothing else to do ends first, and the wait never resolves then (as `delay(ms,
 * { persistent: false })` of `@std/async`).
 *
 * @param ms How long to wait, in milliseconds.
 * @returns A promise that resolves after `ms`.
 *
 * @example Waiting while something else keeps the process running
 * ```ts
 * import assert from "node:assert/strict";
 * import { unrefDelay } from "./unref_delay.ts";
 *
 * let waited = false;
 * void unrefDelay(20).then(() => (waited = true));
 * assert.equal(waited, false);
 * // The example's own timer is what keeps this process alive meanwhile.
 * await new Promise((resolve) => setTimeout(resolve, 100));
 * assert.equal(waited, true);
 * ```
 */
export function unrefDelay(ms: number): Promise<void> {
  // A pipe from a stream that never ends settles only when its signal aborts. The signal's
  // timer starts unreferenced, and a pipe, unlike an abort listener, never references it.
  return new ReadableStream().pipeTo(new WritableStream(), { signal: AbortSignal.timeout(ms) })
    .catch(() => {});
}
