/**
 * A request carrying the session both as a single cookie and as chunks (`session` and
 * `sealed.0`, …): the single cookie is read, and the chunks are expired by the response.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { session, type SessionEnv } from "../lib/mod.ts";

const SECRET = "cookie forms test secret, 32 bytes or more";

function makeApp() {
  const app = new Hono<SessionEnv>();
  app.use(session({ secrets: [SECRET], maxCookieBytes: 16_384 }));
  app.post("/set", async (c) => {
    for (const [k, v] of Object.entries(await c.req.json())) c.get("session").set(k, v);
    return c.text("ok");
  });
  app.get("/data", (c) => c.json(c.get("session").data));
  app.get("/untouched", (c) => c.text("no session"));
  return app;
}

/** `name=value` pairs of the cookies a response sets, and the names it expires. */
function outcome(res: Response): { set: string[]; expired: string[] } {
  const set: string[] = [];
  const expired: string[] = [];
  for (const header of res.headers.getSetCookie()) {
    const pair = header.split(";")[0]!;
    const name = pair.slice(0, pair.indexOf("="));
    if (/Max-Age=0(;|$)/.test(header)) expired.push(name);
    else set.push(pair);
  }
  return { set, expired: expired.sort() };
}

async function post(app: Hono<SessionEnv>, json: unknown, cookie = ""): Promise<Response> {
  return await app.request("/set", {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify(json),
  });
}

Deno.test("session() reads the single cookie when chunks are sent too, and expires the chunks", async (t) => {
  const app = makeApp();
  const single = outcome(await post(app, { name: "small" })).set;
  assert.equal(single.length, 1);
  const chunks = outcome(await post(app, { name: "large", blob: "x".repeat(6000) })).set;
  const chunkNames = chunks.map((p) => p.split("=")[0]!);
  assert.deepEqual(chunkNames.slice(0, 2), ["sealed.0", "sealed.1"]);
  // As a browser may order them: the single cookie among the chunks.
  const both = [chunks[0]!, single[0]!, ...chunks.slice(1)].join("; ");

  await t.step("reading uses the single cookie and expires the chunks", async () => {
    const res = await app.request("/data", { headers: { cookie: both } });
    assert.deepEqual(await res.json(), { name: "small" });
    assert.deepEqual(outcome(res), { set: [], expired: chunkNames });
  });

  await t.step("a write keeps the single form and expires the chunks", async () => {
    const { set, expired } = outcome(await post(app, { name: "changed" }, both));
    assert.deepEqual(set.map((p) => p.split("=")[0]), ["sealed"]);
    assert.deepEqual(expired, chunkNames);
  });

  await t.step("a write that needs chunks replaces both forms", async () => {
    const res = await post(app, { blob: "y".repeat(6000) }, both);
    const { set, expired } = outcome(res);
    assert.deepEqual(set.map((p) => p.split("=")[0]), chunkNames);
    assert.deepEqual(expired, ["sealed"]);
    const again = await app.request("/data", { headers: { cookie: set.join("; ") } });
    assert.deepEqual(await again.json(), { name: "small", blob: "y".repeat(6000) });
  });

  await t.step("a request that does not use the session leaves both alone", async () => {
    const res = await app.request("/untouched", { headers: { cookie: both } });
    assert.deepEqual(res.headers.getSetCookie(), []);
  });

  await t.step(
    "an empty single cookie does not win: the chunks are read, it is expired",
    async () => {
      const res = await app.request("/data", {
        headers: { cookie: `sealed=; ${chunks.join("; ")}` },
      });
      assert.deepEqual(await res.json(), { name: "large", blob: "x".repeat(6000) });
      assert.deepEqual(outcome(res), { set: [], expired: ["sealed"] });
    },
  );
});
