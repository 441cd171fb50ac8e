/**
 * The README's example app, the same file on every runtime: a visit counter, a login that
 * names the session's subject (which regenerates its id), a flash message, a logout, and, with
 * a revocation list, "sign out everywhere" and "sign out other devices". The runtime-specific
 * entries next to it (`deno.ts`, `node.ts`, `bun.ts`, `worker.ts`) only read the secret and
 * serve it.
 *
 * @module
 */

import { Hono } from "hono";
import { session, type SessionEnv, type SessionRevocation } from "@sealed/sessions";

type Data = { name: string; visits: number };

/**
 * Builds the app.
 *
 * @param secret At least 32 bytes; `openssl rand -base64 32` makes one.
 * @param revocation A shared revocation list (`kvRevocation(kv)`, `redisRevocation(client)`):
 *   then logouts hold against copies of the cookie, and `/logout-everywhere` and
 *   `/logout-others` are served.
 * @returns The Hono app; serve its `fetch`.
 *
 * @example Two visits from one browser
 * ```ts
 * import assert from "node:assert/strict";
 * import { createApp } from "./app.ts";
 *
 * const app = createApp("an example secret of at least 32 bytes");
 * const first = await app.request("/");
 * assert.equal(await first.text(), "Hello stranger, visit 1");
 * const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
 * assert.equal(await (await app.request("/", { headers: { cookie } })).text(), "Hello stranger, visit 2");
 * ```
 */
export function createApp(
  secret: string,
  revocation?: SessionRevocation,
): Hono<SessionEnv<Data>> {
  const app = new Hono<SessionEnv<Data>>();
  app.use(session<Data>({ secrets: [secret], revocation }));

  app.get("/", (c) => {
    const s = c.get("session");
    const visits = (s.get("visits") ?? 0) + 1;
    s.set("visits", visits);
    const notice = s.consumeFlash<string>("notice");
    return c.text(
      `${notice ? `${notice} ` : ""}Hello ${s.get("name") ?? "stranger"}, visit ${visits}`,
    );
  });

  app.post("/login/:name", (c) => {
    const s = c.get("session");
    s.subject = c.req.param("name"); // whose session it is; a new session id at login
    s.set("name", c.req.param("name"));
    s.flash("notice", "Welcome!");
    return c.redirect("/", 303);
  });

  app.post("/logout", (c) => {
    c.get("session").destroy();
    return c.redirect("/", 303);
  });

  if (revocation) {
    // Every session of this user ends, on every device and instance, this one included.
    app.post("/logout-everywhere", (c) => {
      c.get("session").signOutEverywhere();
      return c.redirect("/", 303);
    });
    // Every other device of this user is signed out; this one stays signed in.
    app.post("/logout-others", async (c) => {
      await c.get("session").signOutOthers();
      return c.redirect("/", 303);
    });
  }

  return app;
}
