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
import { secureHeaders } from "hono/secure-headers";
import { postGreeting } from "./_bare_app.ts";
import { PRIVATE_HEADERS, serve, wantsJson } from "./_shared.ts";

const app = new Hono();
app.use(secureHeaders());

app.post("/greeting", postGreeting);

app.get("/session-data", (c) => {
  if (wantsJson(c.req.raw)) {
    return c.json({ name: "Ada", lastname: "Lovelace" }, 200, PRIVATE_HEADERS);
  }
  return c.text("Session Data: Ada Lovelace", 200, PRIVATE_HEADERS);
});

serve(app.fetch);
