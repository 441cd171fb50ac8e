/**
 * Load-test server 3: the two routes with only our session middleware (`lib/mod.ts`), on its
 * defaults.
 *
 * Run: `PORT=8000 deno run -A bench/load/ours.ts`
 *
 * @module
 */

import { Hono } from "hono";
import { session, type SessionEnv } from "../../lib/mod.ts";
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

const app = new Hono<SessionEnv<Greeting>>();
app.use(session<Greeting>({ secrets: [SECRET], maxAge: MAX_AGE }));

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
