/**
 * The greeting service as a Hono app, put together: the middleware every request goes through,
 * the routes (`routes/service_routes.ts`) and the error answers (`routes/errors.ts`). Built by
 * {@linkcode createApp} from a configuration, so tests make apps with chosen secrets and
 * `main.ts` makes the one it serves.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { session, type SessionOptions } from "../lib/mod.ts";
import { crossSiteGuard, UNSAFE_METHODS } from "./cross_site.ts";
import { errorHandler, notFound } from "./errors.ts";
import type { Greeting } from "./greeting.ts";
import { securityHeaders } from "./headers.ts";
import { errorSummary } from "../lib/common/errors.ts";
import { type AppEnv, serviceRoutes } from "./service_routes.ts";

export type { AppEnv };

/** Options of {@linkcode createApp}. */
export interface AppOptions {
  /** Session secrets, newest first, each at least 32 bytes. */
  secrets: readonly string[];
  /**
   * Secrets accepted but never used to seal: phase 1 of a rotation (`SESSION_SECRET_NEXT`).
   *
   * @default {[]}
   */
  nextSecrets?: readonly string[];
  /**
   * Absolute session lifetime, in seconds.
   *
   * @default {1209600} (14 days, the library's default)
   */
  maxAge?: number | undefined;
  /**
   * The longest a request body may take to arrive, in seconds, before the request is answered
   * 408; also the longest a refused body (403, 413, 415) is read before its answer.
   *
   * @default {10}
   */
  bodyTimeout?: number | undefined;
  /**
   * Where unexpected errors are reported before the 500 page is sent. The default prints the
   * method, the path and the error's names and messages ({@linkcode errorSummary}) on stderr.
   *
   * @default {console.error}
   */
  logError?: (error: unknown, c: Context<AppEnv>) => void;
  /**
   * Further session options (cookie attributes, chunk limit, clock), mainly for tests. The
   * service sets `persistent: false` (a greeting is a browser-session cookie, as in Flask,
   * unless the visitor ticks "Remember me"); this may override it.
   *
   * @default {{}}
   */
  session?: Omit<SessionOptions, "secrets" | "maxAge">;
}

/**
 * Builds the greeting service.
 *
 * @param options Secrets and session lifetime (as loaded by `loadConfig`), and hooks for
 * tests.
 * @returns The Hono app; serve it with `Deno.serve(app.fetch)` or drive it with
 * `app.request()`.
 * @throws {SessionConfigError} When a secret is shorter than 32 bytes or `maxAge` is not a
 * positive whole number.
 *
 * @example Greeting through the app, no server needed
 * ```ts
 * import assert from "node:assert/strict";
 * import { createApp } from "./app.tsx";
 *
 * const app = createApp({ secrets: ["a secret of at least thirty-two bytes!"] });
 * const res = await app.request("/greeting", {
 *   method: "POST",
 *   headers: { accept: "text/plain" },
 *   body: new URLSearchParams({ name: "Ada", lastname: "Lovelace" }),
 * });
 * assert.equal(await res.text(), "Hello Ada Lovelace");
 * ```
 */
export function createApp(options: AppOptions): Hono<AppEnv> {
  const logError = options.logError ??
    ((error, c) =>
      console.error(`Unexpected error on ${c.req.method} ${c.req.path}: ${errorSummary(error)}`));
  const sessions = session<Greeting>({
    persistent: false,
    ...options.session,
    secrets: options.secrets,
    nextSecrets: options.nextSecrets ?? [],
    maxAge: options.maxAge,
  });

  const bodyTimeoutMs = options.bodyTimeout === undefined ? undefined : options.bodyTimeout * 1000;
  const app = new Hono<AppEnv>();
  // First, so that every response carries the security headers, refusals and error pages too.
  app.use(securityHeaders);
  // Behind a proxy that terminates TLS (secure cookies forced on), the site is on HTTPS too.
  const https = options.session?.cookie?.secure === true;
  app.on(UNSAFE_METHODS, "*", crossSiteGuard({ https, bodyTimeoutMs }));

  app.route("/", serviceRoutes(sessions, { bodyTimeoutMs }));
  app.notFound(notFound);
  app.onError(errorHandler({ logError }));
  return app;
}
