/**
 * The greeting service's routes: the form (`/`), the greeting (`POST /greeting`), the session
 * data (`/session-data`) and logout (`POST /logout`), each in the format the client asked for,
 * and the health check, stylesheet and favicon, which never touch the session.
 *
 * @module
 */

import { Hono, type MiddlewareHandler } from "hono";
import type { Session, SessionEnv } from "../lib/mod.ts";
import { readFields } from "./body.ts";
import { methodNotAllowed } from "./errors.ts";
import { describeErrors, type Greeting, validateGreeting } from "./greeting.ts";
import { privately } from "./headers.ts";
import { sendMessage } from "./messages.ts";
import { acceptsHtmlExplicitly, preferredFormat } from "./negotiate.ts";
import {
  describeExpiry,
  fullName,
  GreetingPage,
  HomePage,
  sessionDataLine,
  SessionDataPage,
  type SessionLifetime,
  STYLESHEET,
  STYLESHEET_PATH,
} from "./pages.tsx";

/** The Hono environment of the routes: a session holding a {@linkcode Greeting}. */
export type AppEnv = SessionEnv<Greeting>;

// Fixed header sets, built once rather than per request.
const STYLESHEET_HEADERS = {
  "Content-Type": "text/css; charset=utf-8",
  "Cache-Control": "public, max-age=3600",
} as const;
const FAVICON_HEADERS = { "Cache-Control": "public, max-age=86400" } as const;
const HEALTH_HEADERS = { "Cache-Control": "no-store" } as const;

/**
 * The service's routes, to mount with `app.route("/", serviceRoutes(sessions))` behind the
 * security headers and the cross-site guard.
 *
 * @param sessions The session middleware, run only by the routes that show or change a session.
 * @param options `bodyTimeoutMs`: the longest a posted body may take to arrive (default 10 s).
 * @returns The routes, as a Hono app of their own.
 */
export function serviceRoutes(
  sessions: MiddlewareHandler<AppEnv>,
  options: { bodyTimeoutMs?: number | undefined } = {},
): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  // No session middleware here: health checks must stay cheap and never set a cookie.
  routes.get("/healthz", (c) => c.text("ok", 200, HEALTH_HEADERS));
  routes.get(STYLESHEET_PATH, (c) => c.body(STYLESHEET, 200, STYLESHEET_HEADERS));
  // Browsers ask for it on their own; an empty answer keeps a 404 out of their consoles.
  routes.get("/favicon.ico", (c) => c.body(null, 204, FAVICON_HEADERS));

  const home = privately<AppEnv>((c) => {
    const current = c.get("session");
    return c.html(String(HomePage({ greeting: current.data, lifetime: lifetimeOf(current) })));
  });
  routes.get("/", sessions, home);

  const greet = privately<AppEnv>(async (c) => {
    const body = await readFields(c.req.raw, {
      lengthEnforced: servedByDeno(c.env),
      timeoutMs: options.bodyTimeoutMs,
    });
    if (!body.ok) {
      const titles = {
        400: "Bad request",
        408: "Request timeout",
        413: "Request too large",
        415: "Unsupported type",
      };
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
        return c.json({ error: messages.join("; "), fields: result.errors }, 400);
      }
      if (format === "text") return c.text(messages.join("\n"), 400);
      // The session is not even read: a junk cookie must not be cleared by a refused post.
      return c.html(String(HomePage({ values: body.fields, errors: result.errors })), 400);
    }

    const { greeting } = result;
    const current = c.get("session");
    // Someone else's greeting in this session (a cookie planted by another visitor, say): the
    // new one starts a session of its own, so that whoever holds the old id never sees it.
    const stored = current.data;
    if (
      !current.isNew && (stored.name !== greeting.name || stored.lastname !== greeting.lastname)
    ) {
      current.regenerate();
    }
    current.set("name", greeting.name);
    current.set("lastname", greeting.lastname);
    // Each greeting posts the visitor's choice anew: unticked is a browser-session cookie.
    current.persistent = result.remember;
    // Asking for the id fixes a new session's id and lifetime now, so the page can say until when.
    void current.id;
    const text = `Hello ${fullName(greeting)}`;
    if (format === "json") return c.json({ greeting: text });
    // With a status, Hono names the type itself (`text/plain; charset=UTF-8`), as elsewhere.
    if (format === "text") return c.text(text, 200);
    return c.html(String(GreetingPage({ greeting, lifetime: lifetimeOf(current) })));
  });
  routes.post("/greeting", sessions, greet);
  routes.all("/greeting", methodNotAllowed("POST"));

  const showData = privately<AppEnv>((c) => {
    const data = c.get("session").data;
    const format = preferredFormat(c.req.header("accept"));
    if (format === "json") {
      const json = { name: data.name ?? null, lastname: data.lastname ?? null };
      return c.json(json);
    }
    if (format === "text") return c.text(sessionDataLine(data), 200);
    return c.html(String(SessionDataPage({ greeting: data })));
  });
  routes.get("/session-data", sessions, showData);

  const logOut = privately<AppEnv>((c) => {
    c.get("session").destroy();
    // Browsers navigating (they name text/html) go back to the form; API clients get no body.
    if (acceptsHtmlExplicitly(c.req.header("accept"))) return c.redirect("/", 303);
    return c.body(null, 204);
  });
  routes.post("/logout", sessions, logOut);
  routes.all("/logout", methodNotAllowed("POST"));

  return routes;
}

/** What the pages say about how long the visitor's session lasts. */
function lifetimeOf(current: Session<Greeting>): SessionLifetime {
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
