/**
 * Load-test server 2j, the baseline of the service's JSON answers: Hono's `secureHeaders()`
 * in front of routes that answer the service's JSON without any session work.
 * `GET /session-data` reads no cookie at all and answers a fixed
 * `{"name":"Ada","lastname":"Lovelace"}`; `POST /greeting` reads and validates the form like
 * every contender and sets the plain cookie of `bare.ts` (so load checks find one), answering
 * `{"greeting":"Hello Ada Lovelace"}`. Text when `Accept` does not name JSON.
 *
 * Run: `PORT=8000 deno run -A bench/load/bare_secure_json.ts`
 *
 * @module
 */

import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { secureHeaders } from "hono/secure-headers";
import {
  INVALID_FORM,
  MAX_AGE,
  PRIVATE_HEADERS,
  readGreeting,
  serve,
  wantsJson,
} from "./_shared.ts";

const app = new Hono();
app.use(secureHeaders());

app.post("/greeting", async (c) => {
  const greeting = await readGreeting(c.req.raw);
  if (greeting === undefined) return c.text(INVALID_FORM, 400, PRIVATE_HEADERS);
  setCookie(c, "name", JSON.stringify(greeting), {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    maxAge: MAX_AGE,
  });
  const text = `Hello ${greeting.name} ${greeting.lastname}`;
  if (wantsJson(c.req.raw)) return c.json({ greeting: text }, 200, PRIVATE_HEADERS);
  return c.text(text, 200, PRIVATE_HEADERS);
});

app.get("/session-data", (c) => {
  if (wantsJson(c.req.raw)) {
    return c.json({ name: "Ada", lastname: "Lovelace" }, 200, PRIVATE_HEADERS);
  }
  return c.text("Session Data: Ada Lovelace", 200, PRIVATE_HEADERS);
});

serve(app.fetch);
