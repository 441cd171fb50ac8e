/**
 * Load-test server 8: our session middleware with revocation on Redis (`$REDIS_URL`), each
 * greeting's session carrying a subject when `$SUBJECTS` is `1`, so that every check reads the
 * subject's cut-off beside the id and everyone's (one `MGET` of three keys instead of two). With
 * `$LIST` `1` the middleware gets the whole `redisRevocation()`, so it also keeps each subject's
 * list of signed-in sessions (a handle sealed in the cookie, an entry recorded at each greeting
 * with a subject, the session noted as seen at most once per interval); with `LIST=0` only the
 * revocation methods, so none of that. The rows show what per-subject sign-out, then the list,
 * cost a request.
 *
 * Run: `REDIS_URL=redis://127.0.0.1:6379 SUBJECTS=1 LIST=1 PORT=8000 deno run -A
 * bench/load/ours_redis.ts`
 *
 * @module
 */

import { Hono } from "hono";
import { Redis } from "ioredis";
import { session, type SessionEnv } from "../../lib/mod.ts";
import { type RedisRevocation, redisRevocation } from "../../lib/redis/mod.ts";
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
const full = redisRevocation(client);
// Revocation alone: without the list's methods no handle is sealed and nothing is recorded.
type Alone = "isRevoked" | "revoke" | "revokeSubject" | "revokeAllBefore";
const revocation: Pick<RedisRevocation, Alone> | RedisRevocation = Deno.env.get("LIST") === "1"
  ? full
  : {
    isRevoked: full.isRevoked,
    revoke: full.revoke,
    revokeSubject: full.revokeSubject,
    revokeAllBefore: full.revokeAllBefore,
  };

const app = new Hono<SessionEnv<Greeting>>();
app.use(session<Greeting>({ secrets: [SECRET], maxAge: MAX_AGE, revocation }));

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
