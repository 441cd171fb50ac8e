/**
 * Sealed Sessions: stateless, encrypted cookie sessions for Hono on Deno and every
 * Web-standard runtime. Session data is sealed with XAES-256-GCM into the cookie itself.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { session, type SessionEnv } from "./mod.ts";
 *
 * const app = new Hono<SessionEnv<{ name: string }>>();
 * app.use(session({ secrets: ["a secret of at least thirty-two bytes!"] }));
 * app.get("/", (c) => c.text(`Hello ${c.get("session").get("name") ?? "stranger"}`));
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
