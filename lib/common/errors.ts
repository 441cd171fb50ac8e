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
 * - `ERR_SESSION_COMMITTED`: the session was changed after the response was committed (by
 *   middleware that runs after `session()` has finished), so the change could not be saved.
 */
export type SessionErrorCode =
  | "ERR_SESSION_INVALID"
  | "ERR_SESSION_TOO_LARGE"
  | "ERR_SESSION_CONFIG"
  | "ERR_SESSION_STORE_UNAVAILABLE"
  | "ERR_SESSION_CONFLICT"
  | "ERR_SESSION_COMMITTED";

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
 * Thrown when a session does not fit where it is kept: its cookies, or a server-side store's
 * size limit. Nothing is written, so the browser keeps the previous cookie and the store the
 * previous data.
 *
 * @example Catching an oversized session in a handler
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionTooLargeError } from "./errors.ts";
 *
 * const error = new SessionTooLargeError(20_000, 16_384);
 * assert.equal(error.code, "ERR_SESSION_TOO_LARGE");
 * assert.match(error.message, /needs 20000 bytes of cookies, more than the limit of 16384/);
 * ```
 */
export class SessionTooLargeError extends SessionError {
  /** Bytes the session would need. */
  readonly size: number;
  /** Bytes allowed. */
  readonly limit: number;

  /**
   * Creates the error for a session larger than allowed.
   *
   * @param size Bytes the session would need.
   * @param limit Bytes allowed.
   * @param where Where the bytes go, for the message.
   * @default {"of cookies"}
   * @param remedy What raises the limit, for the message.
   * @default {"raise maxCookieBytes"}
   */
  constructor(size: number, limit: number, where = "of cookies", remedy = "raise maxCookieBytes") {
    super(
      "ERR_SESSION_TOO_LARGE",
      `Cannot save the session: it needs ${size} bytes ${where}, more than the limit of ${limit} bytes; store less in the session or ${remedy}`,
    );
    this.name = "SessionTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}

/**
 * Thrown when a server-side store or revocation list (Deno KV, Redis) does not answer, so the
 * session can be neither trusted nor saved. Fail closed (the default), it reaches
 * `app.onError`: answer 503. With `failOpen`, the middleware logs it and goes on instead.
 *
 * @example The code and the message of an outage
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionStoreUnavailableError } from "./errors.ts";
 *
 * const error = new SessionStoreUnavailableError("load the session", "Redis", new Error("ECONNREFUSED"));
 * assert.equal(error.code, "ERR_SESSION_STORE_UNAVAILABLE");
 * assert.equal(error.message, "Cannot load the session: Redis did not answer");
 * ```
 */
export class SessionStoreUnavailableError extends SessionError {
  /**
   * Creates the error for a store that did not answer.
   *
   * @param action What could not be done, e.g. `"check session revocation"`.
   * @param store Which store, e.g. `"Deno KV"`.
   * @param cause The client's own error, kept for logs.
   */
  constructor(action: string, store: string, cause?: unknown) {
    super("ERR_SESSION_STORE_UNAVAILABLE", `Cannot ${action}: ${store} did not answer`, { cause });
    this.name = "SessionStoreUnavailableError";
  }
}

/**
 * Thrown by a server-side store when another request changed the session after this one
 * loaded it: the first save wins, this one is refused rather than overwrite it. Answer 409 and
 * let the client retry.
 *
 * @example The code of a lost race
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionConflictError } from "./errors.ts";
 *
 * assert.equal(new SessionConflictError().code, "ERR_SESSION_CONFLICT");
 * ```
 */
export class SessionConflictError extends SessionError {
  /** Creates the error for a save that lost a race. */
  constructor() {
    super(
      "ERR_SESSION_CONFLICT",
      "Cannot save the session: another request changed it first; retry the request",
    );
    this.name = "SessionConflictError";
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
  /** The option at fault, e.g. `"cookie.sameSite"` or `"secrets[1]"`. */
  readonly option: string;
  /** What is wrong with it and how to fix it: the message without the option's name. */
  readonly problem: string;

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
    this.problem = problem;
  }
}

/** Causes followed at most, so that a cycle of causes cannot loop. */
const MAX_CAUSES = 5;

/**
 * An error as a log line may show it: its name and message, then each cause's, and nothing
 * else. Never the error object itself, whose properties and causes' properties a log would
 * print: a Redis client's error carries the command it failed on, session data included.
 *
 * @param error What was thrown.
 * @returns One line (unless a message has several), e.g.
 * `SessionStoreUnavailableError: Cannot save the session: Redis did not answer (ReplyError: …)`.
 *
 * @example A cause's properties stay out of the log
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorSummary } from "./errors.ts";
 *
 * const cause = Object.assign(new TypeError("refused"), { args: ["SET", '{"name":"Ada"}'] });
 * const error = new Error("Cannot save", { cause });
 * assert.equal(errorSummary(error), "Error: Cannot save (TypeError: refused)");
 * assert.equal(errorSummary("plain text"), "a thrown string");
 * ```
 */
export function errorSummary(error: unknown): string {
  const parts: string[] = [];
  let current = error;
  while (current !== undefined && parts.length < MAX_CAUSES) {
    if (!(current instanceof Error)) {
      parts.push(`a thrown ${typeof current}`);
      break;
    }
    parts.push(`${current.name}: ${current.message}`);
    current = current.cause;
  }
  return parts.join(" (") + ")".repeat(parts.length - 1);
}

/**
 * Refuses an option the caller named that does not exist, a misspelling above all: in
 * JavaScript, or through a cast, `maxage` would otherwise be ignored without a word.
 *
 * @param options The options object as given.
 * @param known Every option's name, as a record so that the compiler checks it is complete.
 * @param prefix What the names sit under, e.g. `"cookie."`.
 * @throws {SessionConfigError} Naming the unknown option, and the known one it resembles.
 *
 * @example A misspelt option
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertKnownOptions, SessionConfigError } from "./errors.ts";
 *
 * const known = { maxAge: true, secrets: true };
 * assertKnownOptions({ maxAge: 60 }, known);
 * assert.throws(
 *   () => assertKnownOptions({ maxage: 60 }, known),
 *   (error: unknown) =>
 *     error instanceof SessionConfigError && error.message.includes('did you mean "maxAge"?'),
 * );
 * ```
 */
export function assertKnownOptions(
  options: object,
  known: Readonly<Record<string, boolean>>,
  prefix = "",
): void {
  for (const name of Object.keys(options)) {
    if (Object.hasOwn(known, name)) continue;
    const like = closest(name, Object.keys(known));
    throw new SessionConfigError(
      `${prefix}${name}`,
      `is not an option${like ? `; did you mean "${prefix}${like}"?` : ""} (the options are ${
        Object.keys(known).map((option) => prefix + option).join(", ")
      })`,
    );
  }
}

/** The known name a mistyped one most resembles: same letters in another case, or a typo away. */
function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4));
  for (const option of known) {
    const distance = editDistance(lower, option.toLowerCase());
    if (distance <= bestDistance && (best === undefined || distance < bestDistance)) {
      best = option;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance: the insertions, deletions and substitutions from one text to the other. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j]! + 1,
        next[j - 1]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length]!;
}
