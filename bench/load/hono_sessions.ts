/**
 * Load-test server 4b: the two routes with `hono-sessions` and its `CookieStore` (iron
 * sealed cookie, `iron-webcrypto`), set up as its README shows.
 *
 * Run: `PORT=8000 deno run -A bench/load/hono_sessions.ts`
 *
 * @module
 */

import { Hono } from "hono";
import { CookieStore, type Session, sessionMiddleware } from "hono-sessions";
import {
  type Greeting,
  INVALID_FORM,
  MAX_AGE,
  PRIVATE_HEADERS,
  readGreeting,
  SECRET,
  serve,
  wantsJson,
} from "./_shared.ts";

const app = new Hono<{ Variables: { session: Session<Greeting> } }>();
app.use(sessionMiddleware({
  store: new CookieStore(),
  encryptionKey: SECRET,
  expireAfterSeconds: MAX_AGE,
  cookieOptions: { sameSite: "Lax", path: "/", httpOnly: true },
}));

app.post("/greeting", async (c) => {
  const greeting = await readGreeting(c.req.raw);
  if (greeting === undefined) return c.text(INVALID_FORM, 400, PRIVATE_HEADERS);
  const current = c.get("session");
  current.set("name", greeting.name);
  current.set("lastname", greeting.lastname);
  const text = `Hello ${greeting.name} ${greeting.lastname}`;
  if (wantsJson(c.req.raw)) return c.json({ greeting: text }, 200, PRIVATE_HEADERS);
  return c.text(text, 200, PRIVATE_HEADERS);
});

app.get("/session-data", (c) => {
  const current = c.get("session");
  const name = current.get("name");
  const lastname = current.get("lastname");
  if (wantsJson(c.req.raw)) {
    return c.json({ name: name ?? null, lastname: lastname ?? null }, 200, PRIVATE_HEADERS);
  }
  return c.text(`Session Data: ${name ?? ""} ${lastname ?? ""}`, 200, PRIVATE_HEADERS);
});

serve(app.fetch);
