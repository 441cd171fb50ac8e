/**
 * Typed errors of the session library. Callers switch on {@linkcode SessionError.code},
 * never on message text.
 *
 * @module
 */

/**
 * The closed set of error codes the library throws.
 *
 * - `ERR_SESSION_INVALID`: a sealed value did not open. One code for every cause (forged,
 *   truncated, expired, unknown key, wrong cookie name) so nothing leaks to the client;
 *   the detail is in `cause`.
 * - `ERR_SESSION_TOO_LARGE`: the sealed session does not fit in the allowed cookies.
 * - `ERR_SESSION_CONFIG`: an option is missing or wrong; thrown at set-up.
 * - `ERR_SESSION_STORE_UNAVAILABLE`: a server-side store or revocation list could not be
 *   reached, so the session cannot be trusted or saved.
 * - `ERR_SESSION_CONFLICT`: a concurrent request changed a server-side session first.
 */
export type SessionErrorCode =
  | "ERR_SESSION_INVALID"
  | "ERR_SESSION_TOO_LARGE"
  | "ERR_SESSION_CONFIG"
  | "ERR_SESSION_STORE_UNAVAILABLE"
  | "ERR_SESSION_CONFLICT";

/**
 * Base class of every error the library throws.
 *
 * @example Telling a configuration mistake from a bad cookie
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionConfigError, SessionError } from "./errors.ts";
 *
 * function describe(error: unknown): string {
 *   return error instanceof SessionError ? error.code : "unknown";
 * }
 * assert.equal(describe(new SessionConfigError("secrets", "must not be empty")), "ERR_SESSION_CONFIG");
 * assert.equal(describe(new TypeError("not ours")), "unknown");
 * ```
 */
export class SessionError extends Error {
  /** The stable code of this error. */
  readonly code: SessionErrorCode;

  /**
   * Creates an error with a stable code.
   *
   * @param code The stable code.
   * @param message What could not be done and why.
   * @param options `cause`, kept for logs and never shown to clients.
   */
  constructor(code: SessionErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SessionError";
    this.code = code;
  }
}

/**
 * Why a sealed value was refused. Given to `onInvalid` hooks for logging; never sent to the
 * client.
 *
 * - `malformed`: not a sealed value at all (bad encoding, truncated, wrong version, too big).
 * - `unknown-key`: sealed under a key that is not configured (or no longer is).
 * - `forged`: the authentication tag did not verify (tampered, or sealed for another cookie
 *   name).
 * - `expired`: opened, but past its absolute lifetime or idle deadline.
 * - `revoked`: opened, but revoked server-side (logout, or "log everyone out").
 */
export type InvalidReason = "malformed" | "unknown-key" | "forged" | "expired" | "revoked";

/**
 * The single error for every sealed value that does not open. The {@linkcode reason} is for
 * logs only: every reason looks the same to the client (an empty session).
 *
 * @example Logging why a cookie was refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidSessionError } from "./errors.ts";
 *
 * const error = new InvalidSessionError("forged");
 * assert.equal(error.code, "ERR_SESSION_INVALID");
 * ```
 */
export class InvalidSessionError extends SessionError {
  /** Why the value was refused. */
  readonly reason: InvalidReason;

  /**
   * Creates the error for a value that did not open.
   *
   * @param reason Why the value was refused.
   * @param options `cause`, the underlying failure.
   */
  constructor(reason: InvalidReason, options?: ErrorOptions) {
    super("ERR_SESSION_INVALID", "Cannot open the session: the sealed value is invalid", options);
    this.name = "InvalidSessionError";
    this.reason = reason;
  }
}

/**
 * Thrown when a session does not fit in the configured number of cookies. The response then
 * carries no session cookie, so the browser keeps the previous one.
 *
 * @example Catching an oversized session in a handler
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionTooLargeError } from "./errors.ts";
 *
 * const error = new SessionTooLargeError(20_000, 16_384);
 * assert.equal(error.code, "ERR_SESSION_TOO_LARGE");
 * ```
 */
export class SessionTooLargeError extends SessionError {
  /** Bytes the session cookies would need. */
  readonly size: number;
  /** Bytes the configured cookies allow. */
  readonly limit: number;

  /**
   * Creates the error for a session larger than its cookies allow.
   *
   * @param size Bytes the session cookies would need.
   * @param limit Bytes the configured cookies allow.
   */
  constructor(size: number, limit: number) {
    super(
      "ERR_SESSION_TOO_LARGE",
      `Cannot save the session: it needs ${size} bytes of cookies, more than the limit of ${limit} bytes; store less in the session or raise maxChunks`,
    );
    this.name = "SessionTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}

/**
 * Thrown at set-up when an option is missing or wrong. The message names the option.
 *
 * @example The message names the option to fix
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionConfigError } from "./errors.ts";
 *
 * const error = new SessionConfigError("secrets", "must not be empty");
 * assert.ok(error.message.includes("secrets"));
 * ```
 */
export class SessionConfigError extends SessionError {
  /** The option at fault. */
  readonly option: string;

  /**
   * Creates the error for a wrong option.
   *
   * @param option The option at fault.
   * @param problem What is wrong with it and how to fix it.
   */
  constructor(option: string, problem: string) {
    super("ERR_SESSION_CONFIG", `Invalid session option "${option}": ${problem}`);
    this.name = "SessionConfigError";
    this.option = option;
  }
}
