/**
 * Sealed Sessions: stateless, encrypted cookie sessions for Hono on Deno and every
 * Web-standard runtime. Session data is sealed with XAES-256-GCM into the cookie itself.
 *
 * This entry holds what a Hono app needs: the {@linkcode session} middleware, its option and
 * data types, the contracts of its server-side and foreign-session options, and the errors with
 * their codes. Optional layers have their own entries: `./kv` (Deno KV revocation and store),
 * `./redis` (the same on Redis), `./flask` (Flask's cookie format, and moving a Flask app
 * over), `./seal` (sealing without Hono) and `./xaes` (the cipher). Nothing here needs Deno's
 * types.
 *
 * @example A greeting kept in the session
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { session, type SessionEnv } from "./mod.ts";
 *
 * const app = new Hono<SessionEnv<{ name: string }>>();
 * app.use(session({ secrets: ["a secret of at least thirty-two bytes!"] }));
 * app.post("/hello/:name", (c) => {
 *   c.get("session").set("name", c.req.param("name"));
 *   return c.text("saved");
 * });
 * app.get("/", (c) => c.text(`Hello ${c.get("session").get("name") ?? "stranger"}`));
 *
 * const saved = await app.request("/hello/Ada", { method: "POST" });
 * const cookie = saved.headers.get("set-cookie")!.split(";")[0]!;
 * assert.equal(await (await app.request("/", { headers: { cookie } })).text(), "Hello Ada");
 * ```
 *
 * @module
 */

export { session } from "./middleware/middleware.ts";
export type { SessionEnv } from "./middleware/middleware.ts";
export type { SessionCookieOptions, SessionOptions } from "./middleware/options.ts";
export type { Session, SessionData, SignedInSessionInfo } from "./session/session.ts";
export {
  InvalidSessionError,
  SessionConfigError,
  SessionConflictError,
  SessionError,
  SessionStoreUnavailableError,
  SessionTooLargeError,
} from "./common/errors.ts";
export type { InvalidReason, SessionErrorCode } from "./common/errors.ts";
export type { Secret } from "./sealing/keys.ts";
export type { SameSite } from "./cookie/attributes.ts";
export type {
  SessionRevocation,
  SessionStore,
  SignedInSession,
  StoredSession,
} from "./server_side/contracts.ts";
export type { ForeignSession, ForeignSessionData } from "./middleware/foreign.ts";
