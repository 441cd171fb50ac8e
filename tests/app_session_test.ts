/**
 * The session through the greeting service: `GET /session-data`, logout, bad cookies, the
 * cookie name over HTTPS, and what session errors (too large, store down, conflict) answer.
 */

import assert from "node:assert/strict";
import { cookieOf } from "./_cookie_jar.ts";
import { createApp } from "../main.ts";
import { kvRevocation } from "../lib/kv/mod.ts";
import {
  adaCookie,
  app,
  assertCspCompatible,
  assertNoCookie,
  assertSecurityHeaders,
  bigApp,
  BROWSER_ACCEPT,
  foreignApp,
  form,
  logged,
  postGreeting,
  SECRET,
  sessionData,
} from "./_app.ts";

Deno.test("GET /session-data shows what the session holds", async (t) => {
  const cookie = await adaCookie(app);

  await t.step("as an HTML page by default", async () => {
    const res = await app.request("/session-data", { headers: { cookie } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    const html = await res.text();
    assert.match(html, /<p id="session-data">Session Data: Ada Lovelace<\/p>/);
    assertCspCompatible(html);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assertSecurityHeaders(res);
    assertNoCookie(res);
  });

  await t.step("as plain text", async () => {
    const res = await app.request("/session-data", { headers: { cookie, accept: "text/plain" } });
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    assert.equal(await res.text(), "Session Data: Ada Lovelace");
  });

  await t.step("as JSON", async () => {
    assert.deepEqual(await sessionData(app, cookie), { name: "Ada", lastname: "Lovelace" });
  });

  await t.step("with a Vary header covering Accept and Cookie", async () => {
    const res = await app.request("/session-data", { headers: { cookie } });
    await res.body?.cancel();
    assert.match(res.headers.get("vary") ?? "", /Accept/);
    assert.match(res.headers.get("vary") ?? "", /Cookie/);
  });
});

Deno.test("GET /session-data shows empty values for an empty session", async (t) => {
  await t.step("as empty strings in text, like the Flask original", async () => {
    const res = await app.request("/session-data", { headers: { accept: "text/plain" } });
    assert.equal(await res.text(), "Session Data:  ");
    assertNoCookie(res);
  });

  await t.step("as empty strings in HTML", async () => {
    const res = await app.request("/session-data");
    assert.match(await res.text(), /<p id="session-data">Session Data: {2}<\/p>/);
  });

  await t.step("as null in JSON", async () => {
    assert.deepEqual(await sessionData(app, ""), { name: null, lastname: null });
  });
});

Deno.test("A garbage or tampered session cookie reads as an empty session, never a 500", async (t) => {
  logged.length = 0;
  const good = (await adaCookie(app)).slice("sealed=".length);
  // Flip one character in the middle of the sealed value (ciphertext or tag).
  const middle = Math.floor(good.length / 2);
  const flipped = good.slice(0, middle) + (good[middle] === "A" ? "B" : "A") +
    good.slice(middle + 1);
  const foreign = (await adaCookie(foreignApp))
    .slice("sealed=".length);

  const cookies: Array<[string, string]> = [
    ["garbage", "not-a-sealed-value"],
    ["random bytes", "%00%ff%fe"],
    ["a tampered value", flipped],
    ["a truncated value", good.slice(0, -5)],
    ["a value sealed with another secret", foreign],
    ["an enormous value", "A".repeat(20_000)],
  ];
  for (const [label, value] of cookies) {
    await t.step(label, async () => {
      const res = await app.request("/session-data", {
        headers: { cookie: `sealed=${value}`, accept: "application/json" },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { name: null, lastname: null });
    });
  }
  assert.deepEqual(logged, []);
});

Deno.test("POST /logout destroys the session", async (t) => {
  await t.step("redirecting browsers to / with 303", async () => {
    const cookie = await adaCookie(app);
    const res = await app.request("/logout", {
      method: "POST",
      headers: { cookie, accept: BROWSER_ACCEPT },
    });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/");
    const [expired] = res.headers.getSetCookie();
    assert.match(expired ?? "", /^sealed=; Max-Age=0/);
  });

  await t.step("answering 204 to API clients", async () => {
    for (const accept of ["application/json", "*/*", undefined]) {
      const cookie = await adaCookie(app);
      const headers: Record<string, string> = { cookie };
      if (accept) headers.accept = accept;
      const res = await app.request("/logout", { method: "POST", headers });
      assert.equal(res.status, 204, `Accept: ${accept}`);
      assert.equal(res.body, null);
      assert.match(res.headers.getSetCookie()[0] ?? "", /^sealed=; Max-Age=0/);
    }
  });

  await t.step("so the browser's next request has no session", async () => {
    const cookie = await adaCookie(app);
    const res = await app.request("/logout", { method: "POST", headers: { cookie } });
    // A browser drops the expired cookie: the next request carries none.
    assert.equal(cookieOf(res), "");
    assert.deepEqual(await sessionData(app, cookieOf(res)), { name: null, lastname: null });
  });

  await t.step("expiring every cookie chunk of a large session", async () => {
    const bigRes = await bigApp.request("/");
    await bigRes.body?.cancel();
    const cookie = cookieOf(bigRes);
    assert.match(cookie, /sealed\.1=/);

    const res = await app.request("/logout", { method: "POST", headers: { cookie } });
    assert.equal(res.status, 204);
    const expired = res.headers.getSetCookie().map((header) => header.split("=", 1)[0]);
    for (const name of cookie.split("; ").map((pair) => pair.split("=", 1)[0])) {
      assert.ok(expired.includes(name), `${name} was not expired: ${expired}`);
    }
  });

  await t.step("answering 405 to GET", async () => {
    const res = await app.request("/logout");
    assert.equal(res.status, 405);
    await res.body?.cancel();
  });
});

Deno.test("A session too large for its cookies answers 413 with a clear message", async () => {
  logged.length = 0;
  const res = await app.request("/too-large", { headers: { accept: "application/json" } });
  assert.equal(res.status, 413);
  assert.match((await res.json()).error, /does not fit in the session cookie/);
  assert.deepEqual(logged, []);
});

Deno.test("An unreachable session store answers 503 and is logged", async () => {
  logged.length = 0;
  const res = await app.request("/store-down", { headers: { accept: "application/json" } });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "5");
  assert.match((await res.json()).error, /try again/);
  assert.equal(logged.length, 1);
});

Deno.test("A session changed concurrently in the store answers 409 and saves nothing", async () => {
  const res = await app.request("/conflict", { headers: { accept: "application/json" } });
  assert.equal(res.status, 409);
  assert.match((await res.json()).error, /changed by another request/);
  assert.equal(res.headers.get("set-cookie"), null);
});

Deno.test("With revocation on a closed Deno KV, a session request answers 503 rather than trust the cookie", async () => {
  const kv = await Deno.openKv(":memory:");
  const errors: unknown[] = [];
  const kvApp = createApp({
    secrets: [SECRET],
    logError: (error) => errors.push(error),
    session: { revocation: kvRevocation(kv, { cacheMs: 0 }) },
  });
  const posted = await postGreeting(kvApp, form({ name: "Ada", lastname: "Lovelace" }));
  const cookie = posted.headers.get("set-cookie")!.split(";")[0]!;
  kv.close();
  const originalError = console.error;
  console.error = () => {};
  try {
    const res = await kvApp.request(
      new Request("http://localhost/session-data", {
        headers: { cookie, accept: "application/json" },
      }),
    );
    assert.equal(res.status, 503);
    await res.body?.cancel();
    assert.equal(errors.length, 1, "the outage is logged");
    // A route that never touches the session still answers.
    assert.equal((await kvApp.request("/healthz")).status, 200);
  } finally {
    console.error = originalError;
  }
});

Deno.test("Over HTTPS the session cookie is __Host-sealed and Secure", async () => {
  const res = await app.request("https://greet.example/greeting", {
    method: "POST",
    body: form({ name: "Ada", lastname: "Lovelace" }),
    headers: { origin: "https://greet.example" },
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const [cookie] = res.headers.getSetCookie();
  assert.match(cookie ?? "", /^__Host-sealed=[^;]+;.*; Secure/);
});
