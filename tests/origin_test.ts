/**
 * The cross-site check: `isCrossSite()` and the 403 the service answers to cross-site posts.
 */

import assert from "node:assert/strict";
import { createApp } from "../routes/app.tsx";
import { isCrossSite } from "../routes/origin.ts";
import {
  adaCookie,
  app,
  assertCspCompatible,
  assertNoCookie,
  assertSecurityHeaders,
  BROWSER_ACCEPT,
  form,
  postGreeting,
  sessionData,
} from "./_app.ts";

Deno.test("Cross-site posts are refused with 403", async (t) => {
  const body = () => form({ name: "Mallory", lastname: "Evil" });
  const refused: Array<[string, Record<string, string>]> = [
    // <form action="http://localhost/greeting" method="post"> on https://evil.example
    ["from another origin", { origin: "https://evil.example" }],
    ["from another port of the same host", { origin: "http://localhost:8080" }],
    ["from an opaque origin (Origin: null)", { origin: "null" }],
    ["labelled Sec-Fetch-Site: cross-site", { "sec-fetch-site": "cross-site" }],
    ["labelled cross-site even with a matching Origin", {
      origin: "http://localhost",
      "sec-fetch-site": "cross-site",
    }],
    ["with an unparsable Origin", { origin: "::::" }],
  ];
  for (const [label, headers] of refused) {
    await t.step(label, async () => {
      const res = await postGreeting(app, body(), { ...headers, accept: "application/json" });
      assert.equal(res.status, 403);
      assert.match((await res.json()).error, /another site/);
      assertNoCookie(res);
      assertSecurityHeaders(res);
    });
  }

  await t.step("as an HTML page for browsers", async () => {
    const res = await postGreeting(app, body(), {
      origin: "https://evil.example",
      accept: BROWSER_ACCEPT,
    });
    assert.equal(res.status, 403);
    assertCspCompatible(await res.text());
  });

  await t.step("including logout, which then leaves the session alone", async () => {
    const cookie = await adaCookie(app);
    const res = await app.request("/logout", {
      method: "POST",
      headers: { cookie, origin: "https://evil.example", accept: BROWSER_ACCEPT },
    });
    assert.equal(res.status, 403);
    await res.body?.cancel();
    assertNoCookie(res);
    assert.deepEqual(await sessionData(app, cookie), { name: "Ada", lastname: "Lovelace" });
  });
});

Deno.test("Same-origin posts and posts without browser headers are allowed", async (t) => {
  const allowed: Array<[string, Record<string, string>]> = [
    ["with a matching Origin", { origin: "http://localhost" }],
    ["labelled Sec-Fetch-Site: same-origin", {
      origin: "http://localhost",
      "sec-fetch-site": "same-origin",
    }],
    ["typed in the address bar (Sec-Fetch-Site: none)", { "sec-fetch-site": "none" }],
    ["from curl or a server, with neither header", {}],
  ];
  for (const [label, headers] of allowed) {
    await t.step(label, async () => {
      const res = await postGreeting(app, form({ name: "Ada", lastname: "Lovelace" }), {
        ...headers,
        accept: "text/plain",
      });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "Hello Ada Lovelace");
    });
  }
});

Deno.test("Cross-site requests with other state-changing methods are refused too", async () => {
  for (const method of ["PUT", "PATCH", "DELETE"]) {
    const res = await app.request("/greeting", {
      method,
      headers: { origin: "https://evil.example", accept: "application/json" },
      body: "name=Mallory",
    });
    assert.equal(res.status, 403, method);
    assert.match((await res.json()).error, /another site/);
    assertSecurityHeaders(res);
  }
});

Deno.test("Cross-site GET requests are served: following a link changes nothing", async () => {
  const cookie = await adaCookie(app);
  // <a href="http://localhost/session-data"> on https://evil.example
  const res = await app.request("/session-data", {
    headers: {
      cookie,
      origin: "https://evil.example",
      "sec-fetch-site": "cross-site",
      accept: "text/plain",
    },
  });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "Session Data: Ada Lovelace");
});

Deno.test("isCrossSite() compares the Origin host with the request host", () => {
  const url = "https://greet.example/greeting";
  const check = (headers: Record<string, string>) => isCrossSite(new Headers(headers), url);
  assert.equal(check({}), false);
  assert.equal(check({ origin: "https://greet.example" }), false);
  // TLS ends at a proxy: the app sees http://, the browser sends https://.
  assert.equal(
    isCrossSite(new Headers({ origin: "https://greet.example" }), "http://greet.example/"),
    false,
  );
  assert.equal(check({ origin: "https://greet.example.evil.example" }), true);
  assert.equal(check({ origin: "https://sub.greet.example" }), true);
  assert.equal(check({ origin: "null" }), true);
  assert.equal(check({ origin: "" }), true);
  assert.equal(check({ "sec-fetch-site": "same-site" }), false);
  assert.equal(check({ "sec-fetch-site": "cross-site" }), true);
});

Deno.test("isCrossSite() refuses a plain-HTTP page of the site's own host when the site is on HTTPS", () => {
  const http = new Headers({ origin: "http://greet.example" });
  const https = new Headers({ origin: "https://greet.example" });
  // The request URL says https: the site is on HTTPS.
  assert.equal(isCrossSite(http, "https://greet.example/greeting"), true);
  assert.equal(isCrossSite(https, "https://greet.example/greeting"), false);
  // TLS ends at a proxy (SESSION_COOKIE_SECURE=true): the URL says http:, the site is on HTTPS.
  assert.equal(isCrossSite(http, "http://greet.example/greeting", true), true);
  assert.equal(isCrossSite(https, "http://greet.example/greeting", true), false);
  // Plain HTTP throughout (development): the same host is the same site.
  assert.equal(isCrossSite(http, "http://greet.example/greeting"), false);
});

Deno.test("Behind a TLS proxy, the service refuses a post from a plain-HTTP page of its own host", async () => {
  const proxied = createApp({
    secrets: ["origin test secret, at least 32 bytes long"],
    session: { cookie: { secure: true } },
  });
  const post = (origin: string) =>
    proxied.request("http://greet.example/greeting", {
      method: "POST",
      headers: {
        origin,
        accept: "text/plain",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "name=Ada&lastname=Lovelace",
    });
  const injected = await post("http://greet.example");
  assert.equal(injected.status, 403);
  await injected.body?.cancel();
  const own = await post("https://greet.example");
  assert.equal(own.status, 200);
  await own.body?.cancel();
});
