/**
 * The cross-site check: `isCrossSite()` and the 403 the service answers to cross-site posts.
 */

import assert from "node:assert/strict";
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
