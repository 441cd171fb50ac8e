/**
 * "Where you're signed in": an example app of a subject's list of signed-in sessions. Each
 * device where a user is signed in is listed with a label taken from its `User-Agent` and when it
 * was last active, this one marked; any other can be signed out, or all of them at once.
 *
 * It has NO passwords: `POST /login` signs in whoever names a user. It shows the session list,
 * not authentication; a real app checks a password (or a passkey) where the login names the
 * subject. `devices_deno.ts` serves it on Deno.
 *
 * @module
 */

import { Hono } from "hono";
import { accepts } from "hono/accepts";
import { csrf } from "hono/csrf";
import { html } from "hono/html";
import {
  session,
  type SessionEnv,
  type SessionRevocation,
  type SignedInSessionInfo,
} from "@sealed/sessions";

/** Most characters in a user name. */
const MAX_USER_LENGTH = 40;

type Html = ReturnType<typeof html>;

/**
 * Builds the app.
 *
 * @param secret At least 32 bytes; `openssl rand -base64 32` makes one.
 * @param revocation A revocation list that keeps each subject's sessions: `kvRevocation(kv)` or
 *   `redisRevocation(client)`.
 * @returns The Hono app; serve its `fetch`.
 *
 * @example A laptop lists the phone of the same user, and signs it out
 * ```ts
 * import assert from "node:assert/strict";
 * import { kvRevocation } from "@sealed/sessions/kv";
 * import { createDevicesApp } from "./devices.ts";
 *
 * const kv = await Deno.openKv(":memory:");
 * const app = createDevicesApp("an example secret of at least 32 bytes", kvRevocation(kv));
 * // No password: naming the user signs in. Same-origin POSTs only (csrf()).
 * const login = async (userAgent: string) => {
 *   const res = await app.request("http://localhost/login", {
 *     method: "POST",
 *     headers: { origin: "http://localhost", "user-agent": userAgent },
 *     body: new URLSearchParams({ user: "ada" }),
 *   });
 *   return res.headers.get("set-cookie")!.split(";")[0]!;
 * };
 * const laptop = await login("Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0");
 * const phone = await login("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Version/18.0 Safari/604.1");
 *
 * const list = await app.request("/sessions", { headers: { cookie: laptop, accept: "application/json" } });
 * const { sessions } = await list.json();
 * const other = sessions.find((s: { current: boolean }) => !s.current);
 * assert.equal(other.label, "Safari on iPhone");
 *
 * await app.request("http://localhost/sessions/sign-out", {
 *   method: "POST",
 *   headers: { cookie: laptop, origin: "http://localhost" },
 *   body: new URLSearchParams({ id: other.id }),
 * });
 * const page = await (await app.request("/sessions", { headers: { cookie: phone } })).text();
 * assert.match(page, /<h1>Sign in<\/h1>/);
 * kv.close();
 * ```
 */
export function createDevicesApp(secret: string, revocation: SessionRevocation): Hono<SessionEnv> {
  const app = new Hono<SessionEnv>();
  app.use(csrf()); // a POST from another site is refused 403
  app.use(session({ secrets: [secret], revocation }));

  app.get("/", (c) => c.redirect("/sessions"));

  app.get("/sessions", async (c) => {
    const s = c.get("session");
    const type = accepts(c, {
      header: "Accept",
      supports: ["text/html", "application/json"],
      default: "text/html",
    });
    c.header("Vary", "Accept");
    if (s.subject === undefined) {
      return type === "application/json"
        ? c.json({ error: "Not signed in" }, 401)
        : c.html(loginPage());
    }
    const sessions = await s.sessions();
    return type === "application/json"
      ? c.json({ sessions })
      : c.html(sessionsPage(s.subject, sessions));
  });

  app.post("/login", async (c) => {
    const user = userOf((await c.req.parseBody()).user);
    if (user === undefined) {
      return c.html(loginPage(`Type a user name of 1 to ${MAX_USER_LENGTH} characters.`), 400);
    }
    c.get("session").setSubject(user, { label: deviceLabel(c.req.header("User-Agent")) });
    return c.redirect("/sessions", 303);
  });

  app.post("/sessions/sign-out", async (c) => {
    const { id } = await c.req.parseBody();
    if (typeof id !== "string") return c.text("Which session?", 400);
    const s = c.get("session");
    if (s.subject !== undefined) await s.signOut(id); // false: ended already
    return c.redirect("/sessions", 303);
  });

  app.post("/sessions/sign-out-others", async (c) => {
    const s = c.get("session");
    if (s.subject !== undefined) await s.signOutOthers();
    return c.redirect("/sessions", 303);
  });

  app.post("/logout", (c) => {
    c.get("session").destroy();
    return c.redirect("/sessions", 303);
  });

  return app;
}

const BROWSERS: [RegExp, string][] = [
  [/Edg(A|iOS)?\//, "Edge"],
  [/Firefox\/|FxiOS\//, "Firefox"],
  [/Chrome\/|CriOS\//, "Chrome"],
  [/Safari\//, "Safari"],
];
const SYSTEMS: [RegExp, string][] = [
  [/iPhone/, "iPhone"],
  [/iPad/, "iPad"],
  [/Android/, "Android"],
  [/Windows/, "Windows"],
  [/Macintosh/, "macOS"],
  [/CrOS/, "ChromeOS"],
  [/Linux/, "Linux"],
];

/**
 * A device's label for the list, from its `User-Agent`: the browser and the system.
 *
 * @param userAgent The `User-Agent` header, if any.
 * @returns E.g. "Firefox on Linux"; "a browser" when it names neither.
 *
 * @example Labels of a few User-Agents
 * ```ts
 * import assert from "node:assert/strict";
 * import { deviceLabel } from "./devices.ts";
 *
 * assert.equal(deviceLabel("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/140.0 Safari/537.36"), "Chrome on Windows");
 * assert.equal(deviceLabel(undefined), "a browser");
 * ```
 */
export function deviceLabel(userAgent = ""): string {
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser === undefined) return system === undefined ? "a browser" : `a browser on ${system}`;
  return system === undefined ? browser : `${browser} on ${system}`;
}

/** The user name from the login form; undefined when missing, blank or too long. */
function userOf(value: unknown): string | undefined {
  const user = typeof value === "string" ? value.trim() : "";
  // The library refuses the subjects "undefined" and "null": what String() makes of nothing.
  if (user === "" || user.length > MAX_USER_LENGTH || user === "undefined" || user === "null") {
    return undefined;
  }
  return user;
}

/** A page; `html` escapes every value put in it. */
function page(title: string, content: Html): Html {
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>${title}</title>
      </head>
      <body>
        <main>
          <h1>${title}</h1>
          ${content}
          <p><small>A demonstration of the session list, with no passwords: anyone can sign in
              as any name.</small></p>
        </main>
      </body>
    </html>
  `;
}

function loginPage(error?: string): Html {
  const alert = error === undefined ? "" : html`<p role="alert">${error}</p>`;
  return page(
    "Sign in",
    html`
      ${alert}
      <form method="post" action="/login">
        <label>User name <input name="user" required maxlength="${MAX_USER_LENGTH}"></label>
        <button>Sign in</button>
      </form>
    `,
  );
}

function sessionsPage(user: string, sessions: SignedInSessionInfo[]): Html {
  const signOutOthers = html`
    <form method="post" action="/sessions/sign-out-others">
      <button>Sign out all other devices</button>
    </form>
  `;
  return page(
    "Where you're signed in",
    html`
      <p>Signed in as <strong>${user}</strong>.</p>
      <ul>${sessions.map(device)}</ul>
      ${sessions.some((s) => !s.current) ? signOutOthers : ""}
      <form method="post" action="/logout"><button>Log out</button></form>
    `,
  );
}

/** One device of the list: this one marked, any other with its "Sign out" button. */
function device(s: SignedInSessionInfo): Html {
  const label = html`<strong id="device-${s.id}">${s.label ?? "a browser"}</strong>`;
  const times = html`Signed in ${when(s.issuedAt)}, last active ${when(s.lastSeenAt)}`;
  if (s.current) return html`<li>${label} <em>This device</em><br>${times}</li>`;
  return html`
    <li>
      ${label}<br>${times}
      <form method="post" action="/sessions/sign-out">
        <input type="hidden" name="id" value="${s.id}">
        <button aria-describedby="device-${s.id}">Sign out</button>
      </form>
    </li>
  `;
}

function when(date: Date): Html {
  const iso = date.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace("T", " ")} UTC</time>`;
}
