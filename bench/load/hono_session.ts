/**
 * Load-test server 4a: the two routes with `@hono/session` (encrypted JWT cookie, `dir` +
 * `A256GCM` through `jose`), stateless, with an absolute lifetime like ours.
 *
 * Run: `PORT=8000 deno run -A bench/load/hono_session.ts`
 *
 * @module
 */

import { Hono } from "hono";
import { type SessionEnv, useSession } from "@hono/session";
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
app.use(useSession<Greeting>({ secret: SECRET, duration: { absolute: MAX_AGE } }));

app.post("/greeting", async (c) => {
  const greeting = await readGreeting(c.req.raw);
  if (greeting === undefined) return c.text(INVALID_FORM, 400, PRIVATE_HEADERS);
  await c.var.session.update(greeting);
  const text = `Hello ${greeting.name} ${greeting.lastname}`;
  if (wantsJson(c.req.raw)) return c.json({ greeting: text }, 200, PRIVATE_HEADERS);
  return c.text(text, 200, PRIVATE_HEADERS);
});

app.get("/session-data", async (c) => {
  const data = await c.var.session.get();
  if (wantsJson(c.req.raw)) {
    const json = { name: data?.name ?? null, lastname: data?.lastname ?? null };
    return c.json(json, 200, PRIVATE_HEADERS);
  }
  const text = `Session Data: ${data?.name ?? ""} ${data?.lastname ?? ""}`;
  return c.text(text, 200, PRIVATE_HEADERS);
});

serve(app.fetch);
