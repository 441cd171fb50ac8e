/**
 * The Hono middleware: a thin adapter that finds the session cookie, hands the handler a lazy
 * {@linkcode Session} as `c.get("session")`, and appends `Set-Cookie` only when needed.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { guardRevocation, guardStore } from "./outage.ts";
import { migration as foreignMigration, sharedMode } from "./foreign_mode.ts";
import type { Mode } from "./mode.ts";
import { normalise, type SessionOptions, type Settings } from "./options.ts";
import type { SessionRevocation } from "./server_side.ts";
import { withRevocation } from "./revocation_layer.ts";
import { cookieMode, SealedCookies } from "./sealed_cookie.ts";
import { COMMITTED, DECIDE, LOADED, Session, type SessionData, TOUCHED } from "./session.ts";
import { withStore } from "./store_layer.ts";

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
  const cookies = new SealedCookies(settings);
  const revocation = settings.revocation &&
    guardRevocation(settings.revocation, settings.failOpen);
  const mode = stack(settings, cookies, revocation);
  const timing = {
    maxAge: settings.maxAge,
    idleTimeout: settings.idleTimeout,
    idleRefreshAfter: settings.idleRefreshAfter,
    persistent: settings.persistent,
    subjectRevocation: typeof settings.revocation?.revokeSubject === "function",
  };
  const { foreign } = settings;
  const migration = foreign?.mode === "migrate"
    ? foreignMigration(foreign, { now: settings.now, maxAge: settings.maxAge }, revocation)
    : undefined;

  return async function session(c, next) {
    const visit = cookies.find(c, cookies.sealer ?? await cookies.ready);
    // Lazily where the cookie opens synchronously and nothing else is to check.
    const loading = mode.load(visit);
    visit.loader = typeof loading === "function" ? loading : await loading;
    visit.sizeCheck = mode.fits;
    const current = new Session<Data>(visit, timing, settings.now);
    c.set("session", current);
    const migrated = migration && await migration.load(visit, current);

    await next();

    current[COMMITTED]();
    // A handler that failed (threw, answered as a server error) saves nothing: what it changed
    // before failing may be half a change.
    if (!current[TOUCHED] || (c.error !== undefined && c.res.status >= 500)) return;
    const vary = c.res.headers.get("vary");
    if (vary === null || !VARIES_ON_COOKIE.test(vary)) appendHeaders(c, "Vary", ["Cookie"]);
    const decision = current[DECIDE](visit.invalid && !visit.keepCookie);
    // Whatever becomes of the cookie, a sign-out everywhere holds. Only decided when the list
    // keeps per-subject cut-offs (checked at the call).
    for (const { subject, before } of decision.signOuts ?? []) {
      await revocation!.revokeSubject!(subject, new Date(before));
    }
    const loaded = current[LOADED] ?? visit.unloaded;
    const headers = decision.action === "none"
      ? mode.unchanged(visit)
      : decision.action === "delete"
      ? await mode.remove(visit, decision, loaded)
      : await mode.write(visit, decision, loaded);
    // Nothing at all to write: the cookie the browser holds must stay as it is.
    if (headers === undefined) return;
    if (migration) headers.push(...await migration.commit(visit, decision, migrated));
    appendHeaders(c, "Set-Cookie", headers);
  };
}

/**
 * The modes of a configuration, built once: the sealed cookie (or a shared foreign cookie),
 * wrapped by the revocation list, wrapped by the store, each guarded for outages as
 * `failOpen` says.
 */
function stack(
  settings: Settings,
  cookies: SealedCookies,
  revocation: SessionRevocation | undefined,
): Mode {
  const { foreign, store, failOpen } = settings;
  if (foreign?.mode === "shared") {
    return sharedMode(foreign, { now: settings.now, maxAge: settings.maxAge });
  }
  let mode = cookieMode(cookies);
  if (revocation) mode = withRevocation(mode, revocation);
  if (store) mode = withStore(mode, guardStore(store, failOpen));
  return mode;
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
