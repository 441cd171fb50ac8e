/**
 * Load-test server 8: our session middleware with revocation on Redis (`$REDIS_URL`), each
 * greeting's session carrying a subject when `$SUBJECTS` is `1`, so that every check reads the
 * subject's cut-off beside the id and everyone's (one `MGET` of three keys instead of two). The
 * pair of rows shows what per-subject sign-out costs a request.
 *
 * Run: `REDIS_URL=redis://127.0.0.1:6379 SUBJECTS=1 PORT=8000 deno run -A bench/load/ours_redis.ts`
 *
 * @module
 */

import { Hono } from "hono";
import { Redis } from "ioredis";
import { session, type SessionEnv } from "../../lib/mod.ts";
import { redisRevocation } from "../../lib/redis/mod.ts";
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

const client = new Redis(Deno.env.get("REDIS_URL") ?? "redis://127.0.0.1:6379", {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
});
client.on("error", (error) => console.error("redis:", error.message));
await new Promise((resolve) => client.once("ready", resolve));
const subjects = Deno.env.get("SUBJECTS") === "1";

const app = new Hono<SessionEnv<Greeting>>();
app.use(
  session<Greeting>({ secrets: [SECRET], maxAge: MAX_AGE, revocation: redisRevocation(client) }),
);

app.post("/greeting", async (c) => {
  const greeting = await readGreeting(c.req.raw);
  if (greeting === undefined) return c.text(INVALID_FORM, 400, PRIVATE_HEADERS);
  const current = c.get("session");
  // Distinct visitors, distinct subjects: each check reads a key of its own.
  if (subjects) current.subject = crypto.randomUUID();
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
