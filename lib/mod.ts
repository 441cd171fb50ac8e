/**
 * Sealed Sessions: stateless, encrypted cookie sessions for Hono on Deno and every
 * Web-standard runtime. Session data is sealed with XAES-256-GCM into the cookie itself.
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

export { session } from "./session/middleware.ts";
export type { SessionEnv } from "./session/middleware.ts";
export type { SessionCookieOptions, SessionOptions } from "./session/options.ts";
export type { FlaskBridgeOptions } from "./session/flask_bridge.ts";
export { Session } from "./session/session.ts";
export type { SessionData } from "./session/session.ts";
export {
  InvalidSessionError,
  SessionConfigError,
  SessionError,
  SessionTooLargeError,
} from "./session/errors.ts";
export type { InvalidReason, SessionErrorCode } from "./session/errors.ts";
export { createSealer, Sealer } from "./session/seal.ts";
export type { OpenedRecord, SealerOptions, SessionRecord } from "./session/seal.ts";
export { hasNodeCrypto, prepareXaesKey, xaes256gcm, xaes256gcmWebCrypto } from "./session/xaes.ts";
export type { Xaes256Gcm, XaesBackend, XaesKey } from "./session/xaes.ts";
export type { Secret } from "./session/keys.ts";
export type { SameSite } from "./session/cookie.ts";
export type { SessionRevocation, SessionStore, StoredSession } from "./session/server_side.ts";
export { KV_VALUE_LIMIT, kvRevocation, kvStore } from "./kv/mod.ts";
export type { KvRevocation, KvRevocationOptions, KvStoreOptions } from "./kv/mod.ts";
export { sealFlaskCookie, unsealFlaskCookie } from "./flask/mod.ts";
export type { FlaskCookieOptions } from "./flask/mod.ts";
