/**
 * The Hono middleware: `session()` validates its options once and builds the pipeline
 * (`pipeline.ts`) that runs each request: the handler gets a lazy `Session` as
 * `c.get("session")`, and `Set-Cookie` is appended only when needed.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { normalise, type SessionOptions } from "./options.ts";
import { Pipeline, type SessionEnv } from "./pipeline.ts";
import type { SessionData } from "../session/session.ts";

export type { SessionCookieOptions, SessionOptions } from "./options.ts";
export type { SessionEnv } from "./pipeline.ts";

/**
 * Sealed cookie sessions for Hono. Each request gets `c.get("session")`, a {@linkcode Session}
 * whose data is sealed with XAES-256-GCM into the cookie itself: no store, any instance can
 * serve any request.
 *
 * @typeParam Data The shape of the session data.
 * @param options Secrets and settings; only `secrets` is required.
 * @returns The middleware.
 * @throws {SessionConfigError} At set-up, naming the option that is wrong.
 *
 * @example A greeting stored in the session
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { session, type SessionEnv } from "./middleware.ts";
 *
 * type Data = { name: string };
 * const app = new Hono<SessionEnv<Data>>();
 * app.use(session<Data>({ secrets: ["a secret of at least thirty-two bytes!"] }));
 * app.post("/hello/:name", (c) => {
 *   c.get("session").set("name", c.req.param("name"));
 *   return c.text("saved");
 * });
 * app.get("/", (c) => c.text(`Hello ${c.get("session").get("name") ?? "stranger"}`));
 *
 * const res = await app.request("/hello/Ada", { method: "POST" });
 * const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
 * const again = await app.request("/", { headers: { cookie } });
 * assert.equal(await again.text(), "Hello Ada");
 * ```
 */
export function session<Data extends SessionData = SessionData>(
  options: SessionOptions,
): MiddlewareHandler<SessionEnv<Data>> {
  return new Pipeline(normalise(options)).handler<Data>();
}
