/**
 * The Hono middleware: a thin adapter that finds the session cookie, hands the handler a lazy
 * {@linkcode Session} as `c.get("session")`, and appends `Set-Cookie` only when needed.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { normalise, type SessionOptions } from "./options.ts";
import { Pipeline } from "./pipeline.ts";
import {
  COMMITTED,
  DECIDE,
  LOADED,
  Session,
  type SessionData,
  type SessionTiming,
  TOUCHED,
} from "../session/session.ts";

export type { SessionCookieOptions, SessionOptions } from "./options.ts";

/**
 * Hono environment with a typed session, for `new Hono<SessionEnv<Data>>()`.
 *
 * @typeParam Data The shape of the session data.
 */
export type SessionEnv<Data extends SessionData = SessionData> = {
  Variables: { session: Session<Data> };
};

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
  const settings = normalise(options);
  const pipeline = new Pipeline(settings);
  const timing: SessionTiming = {
    maxAge: settings.maxAge,
    idleTimeout: settings.idleTimeout,
    idleRefreshAfter: settings.idleRefreshAfter,
    persistent: settings.persistent,
    subjectRevocation: pipeline.signsOut,
  };

  return async function session(c, next) {
    const visit = pipeline.find(c, pipeline.sealer ?? await pipeline.ready);
    if (pipeline.opensWhenTouched(visit.sealer)) visit.openWhenTouched();
    else await pipeline.open(visit);
    const current = new Session<Data>(visit, timing, settings.now);
    c.set("session", current);
    const migrated = pipeline.migrates ? await pipeline.migrate(visit, current) : undefined;

    await next();

    current[COMMITTED]();
    // A handler that failed (threw, answered as a server error) saves nothing: what it changed
    // before failing may be half a change.
    if (!current[TOUCHED] || (c.error !== undefined && c.res.status >= 500)) return;
    const vary = c.res.headers.get("vary");
    if (vary === null || !VARIES_ON_COOKIE.test(vary)) appendHeaders(c, "Vary", ["Cookie"]);
    const decision = current[DECIDE](visit.deletesRefused);
    const loaded = current[LOADED] ?? visit.unloadedRecord;
    // A session only read stores and records nothing: its headers are known at once.
    const headers = decision.action === "none"
      ? pipeline.unchanged(visit)
      : await pipeline.commit(visit, decision, loaded, migrated);
    // Nothing at all to write: the cookie the browser holds must stay as it is.
    if (headers !== undefined) appendHeaders(c, "Set-Cookie", headers);
  };
}

/** A `Vary` value that already names `Cookie` (or is `*`). */
const VARIES_ON_COOKIE = /(?:^|,)[ \t]*(?:cookie|\*)[ \t]*(?:,|$)/i;

/**
 * Appends headers to the response. Straight onto its headers where they are mutable: Hono's
 * `c.header()` after the handler copies the whole response on every call.
 */
function appendHeaders(c: Context, name: string, values: readonly string[]): void {
  if (values.length === 0) return;
  let headers = c.res.headers;
  try {
    headers.append(name, values[0]!);
  } catch {
    // Immutable headers (a Response.redirect() or fetch() response): copy it once.
    c.res = new Response(c.res.body, c.res);
    headers = c.res.headers;
    headers.append(name, values[0]!);
  }
  for (let i = 1; i < values.length; i++) headers.append(name, values[i]!);
}
