/**
 * The service's error answers: `404` for unknown addresses, `405` for a known address asked
 * with another method, and `app.onError`'s mapping of what a request can fail with to
 * `413`, `409`, `503` and `500` pages, each in the format the client asked for.
 *
 * @module
 */

import type { Context, Env, ErrorHandler, NotFoundHandler } from "hono";
import { SessionError } from "../lib/mod.ts";
import { sendMessage } from "./messages.ts";

/** Options of {@linkcode errorHandler}. */
export interface ErrorHandlerOptions<E extends Env> {
  /** Where unexpected errors (and an unavailable session store) are reported. */
  logError: (error: unknown, c: Context<E>) => void;
}

/**
 * Makes the handler for `app.onError`: a session too large for its cookie is `413`, a
 * server-side session changed by another request first is `409`, an unreachable session store
 * is `503` with `Retry-After`, anything else `500`. Only the last two are logged; nothing about
 * an error reaches the client.
 *
 * @param options Where errors are reported.
 * @returns The error handler.
 * @throws {TypeError} When `logError` is not a function.
 *
 * @example An unexpected error answers 500 and is logged
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { errorHandler } from "./errors.ts";
 *
 * const logged: unknown[] = [];
 * const app = new Hono().onError(errorHandler({ logError: (error) => logged.push(error) }));
 * app.get("/", () => {
 *   throw new Error("database password is hunter2");
 * });
 * const res = await app.request("/", { headers: { accept: "application/json" } });
 * assert.equal(res.status, 500);
 * assert.ok(!(await res.text()).includes("hunter2"));
 * assert.equal(logged.length, 1);
 * ```
 */
export function errorHandler<E extends Env>(options: ErrorHandlerOptions<E>): ErrorHandler<E> {
  const { logError } = options;
  if (typeof logError !== "function") {
    throw new TypeError(
      `Cannot make the error handler: logError must be a function, received ${typeof logError}`,
    );
  }
  return function answerError(error, c) {
    const code = error instanceof SessionError ? error.code : undefined;
    if (code === "ERR_SESSION_TOO_LARGE") {
      return sendMessage(c, 413, "Session too large", [
        "What you asked to save does not fit in the session cookie, so nothing was saved.",
      ]);
    }
    if (code === "ERR_SESSION_CONFLICT") {
      // Server-side store: another request changed this session first; nothing was saved.
      return sendMessage(c, 409, "Conflict", [
        "Your session was changed by another request at the same time, so nothing was saved.",
        "Please try again.",
      ]);
    }
    logError(error, c);
    if (code === "ERR_SESSION_STORE_UNAVAILABLE") {
      c.header("Retry-After", "5");
      return sendMessage(c, 503, "Service unavailable", [
        "Sessions cannot be checked right now. Please try again in a moment.",
      ]);
    }
    // Nothing about the error reaches the client: the details are in the server log.
    return sendMessage(c, 500, "Something went wrong", [
      "The server could not answer this request. Please try again later.",
    ]);
  };
}

/**
 * The handler for `app.notFound`: a `404` page.
 *
 * @param c The request's context.
 * @returns The `404` answer.
 */
export const notFound: NotFoundHandler = function notFound(c) {
  return sendMessage(c, 404, "Page not found", ["There is nothing at this address."]);
};

/**
 * Makes a handler answering `405` with `Allow`, for an address's other methods.
 *
 * @param allow The method the address accepts, e.g. `POST`.
 * @returns The handler, for `app.all(path, …)` after the address's own route.
 */
export function methodNotAllowed(
  allow: string,
): (c: Context) => Response | Promise<Response> {
  return function methodNotAllowed(c) {
    c.header("Allow", allow);
    return sendMessage(c, 405, "Method not allowed", [
      `This address only accepts ${allow} requests.`,
    ]);
  };
}
