/**
 * The greeting service as a Hono app: routes, error pages and the middleware around them.
 * Built by {@linkcode createApp} from a configuration, so tests make apps with chosen
 * secrets and `main.ts` makes the one it serves.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import type { Child } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { session, type SessionEnv, SessionError, type SessionOptions } from "../lib/mod.ts";
import { discardBody, readFields } from "./body.ts";
import { describeErrors, type Greeting, validateGreeting } from "./greeting.ts";
import { PRIVATE_HEADERS, SECURITY_HEADERS } from "./headers.ts";
import { acceptsHtmlExplicitly, preferredFormat } from "./negotiate.ts";
import { isCrossSite } from "./origin.ts";
import { pageShell, type ShellFiller } from "./page_shell.ts";
import { privateResponse } from "./responses.ts";
import {
  describeExpiry,
  fullName,
  GreetingPage,
  HomePage,
  MessagePage,
  sessionDataLine,
  SessionDataPage,
  type SessionLifetime,
  STYLESHEET,
  STYLESHEET_PATH,
} from "./pages.tsx";

/** The Hono environment of the app: a session holding a {@linkcode Greeting}. */
export type AppEnv = SessionEnv<Greeting>;

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
   * @default {1209600} (14 days)
   */
  maxAge?: number;
  /**
   * Where unexpected errors are reported before the 500 page is sent.
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

type Ctx = Context<AppEnv>;

// Fixed header sets, built once rather than per request.
const STYLESHEET_HEADERS = {
  "Content-Type": "text/css; charset=utf-8",
  "Cache-Control": "public, max-age=3600",
} as const;
const FAVICON_HEADERS = { "Cache-Control": "public, max-age=86400" } as const;
const HEALTH_HEADERS = { "Cache-Control": "no-store" } as const;

// Names already lowercase: Deno lowercases each name on every set otherwise.
const SECURITY_HEADERS_LOWER = SECURITY_HEADERS.map(
  ([name, value]) => [name.toLowerCase(), value] as const,
);

// The pages every greeting and every session-data visit get, rendered once from their
// components: a request only escapes the names into them.
// One per kind of session, the expiry as two more values.
const [rememberedGreetingPage, forgottenGreetingPage] = [true, false].map((persistent) =>
  pageShell(
    ([name = "", lastname = "", datetime = "", text = ""]) =>
      String(GreetingPage({
        greeting: { name, lastname },
        lifetime: { persistent, until: { datetime, text } },
      })),
    4,
  )
) as [ShellFiller, ShellFiller];
const sessionDataPage = pageShell(
  ([name, lastname]) => String(SessionDataPage({ greeting: { name, lastname } })),
  2,
);

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
    ((error, c) => console.error(`Unexpected error on ${c.req.method} ${c.req.path}:`, error));
  const sessions = session<Greeting>({
    persistent: false,
    ...options.session,
    secrets: options.secrets,
    nextSecrets: options.nextSecrets ?? [],
    maxAge: options.maxAge ?? 1_209_600,
  });

  const app = new Hono<AppEnv>();

  // No session middleware here: health checks must stay cheap and never set a cookie.
  app.get("/healthz", (c) => c.text("ok", 200, HEALTH_HEADERS));
  app.get(STYLESHEET_PATH, (c) => c.body(STYLESHEET, 200, STYLESHEET_HEADERS));
  // Browsers ask for it on their own; an empty answer keeps a 404 out of their consoles.
  app.get("/favicon.ico", (c) => c.body(null, 204, FAVICON_HEADERS));

  app.get("/", sessions, (c) => {
    const current = c.get("session");
    return sendPage(c, 200, HomePage({ greeting: current.data, lifetime: lifetimeOf(current) }));
  });

  app.post("/greeting", sessions, async (c) => {
    const body = await readFields(c.req.raw, { lengthEnforced: servedByDeno(c.env) });
    if (!body.ok) {
      const titles = { 400: "Bad request", 413: "Request too large", 415: "Unsupported type" };
      return sendMessage(c, body.status, titles[body.status], [body.message]);
    }
    const result = validateGreeting(body.fields, {
      encoding: body.encoding === "json" ? "json" : "form",
    });
    const format = preferredFormat(c.req.header("accept"));
    if (!result.ok) {
      // Nothing was written to the session, so no Set-Cookie goes out.
      const messages = describeErrors(result.errors);
      if (format === "json") {
        return c.json({ error: messages.join("; "), fields: result.errors }, 400, PRIVATE_HEADERS);
      }
      if (format === "text") return c.text(messages.join("\n"), 400, PRIVATE_HEADERS);
      // The session is not even read: a junk cookie must not be cleared by a refused post.
      const page = HomePage({ values: body.fields, errors: result.errors });
      return sendPage(c, 400, page);
    }

    const { greeting } = result;
    const current = c.get("session");
    current.set("name", greeting.name);
    current.set("lastname", greeting.lastname);
    // Each greeting posts the visitor's choice anew: unticked is a browser-session cookie.
    current.persistent = result.remember;
    // Asking for the id fixes a new session's id and lifetime now, so the page can say until when.
    void current.id;
    const text = `Hello ${fullName(greeting)}`;
    if (format === "json") return privateResponse(JSON.stringify({ greeting: text }), "json");
    if (format === "text") return privateResponse(text, "text");
    const until = describeExpiry(current.expiresAt!);
    const page = current.persistent ? rememberedGreetingPage : forgottenGreetingPage;
    const values = [greeting.name, greeting.lastname, until.datetime, until.text];
    return privateResponse(page(values), "html");
  });
  app.all("/greeting", methodNotAllowed("POST"));

  app.get("/session-data", sessions, (c) => {
    const data = c.get("session").data;
    const format = preferredFormat(c.req.header("accept"));
    if (format === "json") {
      const json = { name: data.name ?? null, lastname: data.lastname ?? null };
      return privateResponse(JSON.stringify(json), "json");
    }
    if (format === "text") return privateResponse(sessionDataLine(data), "text");
    const names = [`${data.name ?? ""}`, `${data.lastname ?? ""}`];
    return privateResponse(sessionDataPage(names), "html");
  });

  app.post("/logout", sessions, (c) => {
    c.get("session").destroy();
    // Browsers navigating (they name text/html) go back to the form; API clients get no body.
    if (acceptsHtmlExplicitly(c.req.header("accept"))) {
      return c.body(null, 303, { ...PRIVATE_HEADERS, Location: "/" });
    }
    return c.body(null, 204, PRIVATE_HEADERS);
  });
  app.all("/logout", methodNotAllowed("POST"));

  app.notFound((c) => sendMessage(c, 404, "Page not found", ["There is nothing at this address."]));

  app.onError(answerError);

  // Cross-site refusals: a router of their own, so the service's routes never see such a request.
  const refusals = new Hono<AppEnv>();
  refusals.all("*", async function crossSiteRefusal(c) {
    await discardBody(c.req.raw);
    return sendMessage(c, 403, "Cross-site request refused", [
      "This form was submitted from another site, so it was refused.",
      "Submit it from this site's own pages instead.",
    ]);
  });
  refusals.onError(answerError);

  // The cross-site guard and the security headers wrap the router rather than being Hono
  // middleware: each `app.use` adds an asynchronous hop (a promise, a closure, a dispatch) to
  // every request. With `privateResponse` (routes/responses.ts) this took POST /greeting
  // from ~75 to ~65 µs of server CPU over HTTP, and GET /session-data from ~29 to ~24.
  // Every response, error pages and refusals included, carries the security headers: set at the
  // end, in one loop over a list built at start-up (a little cheaper than hono/secure-headers;
  // building each response from a header template was slower still, as Deno copies every header
  // one by one either way).
  const route = app.fetch;
  app.fetch = (request, env, executionCtx) => {
    // Only state-changing methods are checked, so GET requests skip this entirely.
    const response = UNSAFE_METHODS.has(request.method) && isCrossSite(request.headers, request.url)
      ? refusals.fetch(request, env, executionCtx)
      : route(request, env, executionCtx);
    return response instanceof Promise
      ? response.then(withSecurityHeaders)
      : withSecurityHeaders(response);
  };

  return app;

  function answerError(error: Error, c: Ctx): Response {
    if (error instanceof SessionError && error.code === "ERR_SESSION_TOO_LARGE") {
      return sendMessage(c, 413, "Session too large", [
        "What you asked to save does not fit in the session cookie, so nothing was saved.",
      ]);
    }
    if (error instanceof SessionError && error.code === "ERR_SESSION_CONFLICT") {
      // Server-side store: another request changed this session first; nothing was saved.
      return sendMessage(c, 409, "Conflict", [
        "Your session was changed by another request at the same time, so nothing was saved.",
        "Please try again.",
      ]);
    }
    logError(error, c);
    if (error instanceof SessionError && error.code === "ERR_SESSION_STORE_UNAVAILABLE") {
      c.header("Retry-After", "5");
      return sendMessage(c, 503, "Service unavailable", [
        "Sessions cannot be checked right now. Please try again in a moment.",
      ]);
    }
    // Nothing about the error reaches the client: the details are in the server log.
    return sendMessage(c, 500, "Something went wrong", [
      "The server could not answer this request. Please try again later.",
    ]);
  }
}

const UNSAFE_METHODS: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function withSecurityHeaders(response: Response): Response {
  const headers = response.headers;
  for (const [name, value] of SECURITY_HEADERS_LOWER) headers.set(name, value);
  return response;
}

/** What the pages say about how long the visitor's session lasts. */
function lifetimeOf(current: AppEnv["Variables"]["session"]): SessionLifetime {
  const expiresAt = current.expiresAt;
  return { persistent: current.persistent, until: expiresAt && describeExpiry(expiresAt) };
}

// Deno.serve hands its ServeHandlerInfo on as Hono's env, and its server frames every body by
// Content-Length: readFields may then read an announced body in one go. Anything else (an
// in-process app.request(), another runtime) has its body counted as it arrives.
function servedByDeno(env: unknown): boolean {
  const remoteAddr = (env as { remoteAddr?: { transport?: unknown } } | undefined)?.remoteAddr;
  return typeof Deno !== "undefined" && typeof remoteAddr?.transport === "string";
}

function methodNotAllowed(allow: string) {
  return function methodNotAllowed(c: Ctx): Response {
    c.header("Allow", allow);
    return sendMessage(c, 405, "Method not allowed", [
      `This address only accepts ${allow} requests.`,
    ]);
  };
}

// The pages' components are all synchronous, so rendering to a string here is safe, and it
// spares Hono's asynchronous callback resolution that `c.html(<Page />)` runs on every
// request (measured: about twice as fast for GET /session-data's page). Pages are called as
// functions, never as `<Page />`: see routes/pages.tsx for why no JSX node is rendered.
function sendPage(c: Ctx, status: ContentfulStatusCode, page: Child): Response {
  return c.html(String(page), status, PRIVATE_HEADERS);
}

// An error or refusal, in the format the client asked for.
function sendMessage(
  c: Ctx,
  status: ContentfulStatusCode,
  title: string,
  messages: readonly string[],
): Response {
  const format = preferredFormat(c.req.header("accept"));
  if (format === "json") return c.json({ error: messages.join(" ") }, status, PRIVATE_HEADERS);
  if (format === "text") return c.text(messages.join("\n"), status, PRIVATE_HEADERS);
  return sendPage(c, status, MessagePage({ title, messages }));
}
