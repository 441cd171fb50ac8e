/**
 * The middleware's per-request cost, many distinct visitors (each request carries another
 * visitor's cookie, so the open cache does not help), through `app.request()`: a read, a write
 * and a request that never touches the session, in cookie mode on the synchronous backend.
 * Compare a change against the code before it in the same run (copy the old `lib/` aside and
 * import its `session` beside this one): the machine's load moves the absolute figures.
 *
 * Run: `deno bench --allow-env --allow-read bench/middleware_bench.ts`
 *
 * @module
 */

import { Hono } from "hono";
import { session, type SessionEnv } from "../lib/mod.ts";

const SECRET = "a secret of at least thirty-two bytes!";
const VISITORS = 2000;

const app = new Hono<SessionEnv<{ name: string }>>();
app.use(session<{ name: string }>({ secrets: [SECRET] }));
app.get("/", (c) => c.text(`Hello ${c.get("session").get("name") ?? "stranger"}`));
app.get("/untouched", (c) => c.text("ok"));
let n = 0;
app.post("/name", (c) => {
  c.get("session").set("name", `Ada ${n++}`);
  return c.text("saved");
});

const cookies: string[] = [];
for (let i = 0; i < VISITORS; i++) {
  const res = await app.request("/name", { method: "POST" });
  cookies.push(res.headers.get("set-cookie")!.split(";")[0]!);
}

let read = 0;
let write = 0;
Deno.bench("a read, each request another visitor", { group: "middleware" }, async () => {
  await app.request("/", { headers: { cookie: cookies[read++ % VISITORS]! } });
});
Deno.bench("a write, each request another visitor", { group: "middleware" }, async () => {
  await app.request("/name", {
    method: "POST",
    headers: { cookie: cookies[write++ % VISITORS]! },
  });
});
Deno.bench("a request that never touches the session", { group: "middleware" }, async () => {
  await app.request("/untouched");
});
