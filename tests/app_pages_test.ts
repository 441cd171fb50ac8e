/**
 * The greeting service's pages through `app.request()`: the form, the greeting, the
 * stylesheet, health check, 404 and 500 pages, and the security headers on each.
 */

import assert from "node:assert/strict";
import {
  adaCookie,
  app,
  assertCspCompatible,
  assertNoCookie,
  assertSecurityHeaders,
  BROWSER_ACCEPT,
  logged,
} from "./_app.ts";

Deno.test("GET / serves an accessible page with the greeting form", async (t) => {
  const res = await app.request("/");
  const html = await res.text();

  await t.step("as an HTML document in English with a title and a main landmark", () => {
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html; charset=utf-8/i);
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<html lang="en">/);
    assert.match(html, /<title>[^<]+<\/title>/);
    assert.match(html, /<main>[\s\S]*<\/main>/);
    assert.match(html, /<h1>/);
  });

  await t.step("with labelled name and lastname fields posting to /greeting", () => {
    assert.match(html, /<form method="post" action="\/greeting">/);
    for (const field of ["name", "lastname"]) {
      assert.match(html, new RegExp(`<label for="${field}">[^<]+</label>`));
      assert.match(html, new RegExp(`<input id="${field}" name="${field}"[^>]* required`));
    }
    assert.match(html, /<button type="submit">[^<]+<\/button>/);
  });

  await t.step("that satisfies the Content-Security-Policy", () => {
    assertCspCompatible(html);
    assertSecurityHeaders(res);
  });

  await t.step("that no cache may store", () => {
    assert.equal(res.headers.get("cache-control"), "no-store");
  });

  await t.step("without setting a cookie for a new visitor", () => {
    assertNoCookie(res);
  });
});

Deno.test("GET / greets a known visitor and offers session data and logout", async () => {
  const cookie = await adaCookie(app);
  const res = await app.request("/", { headers: { cookie } });
  const html = await res.text();
  assert.equal(res.status, 200);
  assert.match(html, /Welcome back, Ada Lovelace/);
  assert.match(html, /<a href="\/session-data">/);
  assert.match(html, /<form method="post" action="\/logout"><button type="submit">/);
  assertCspCompatible(html);
  // Reading an unchanged session writes nothing back.
  assertNoCookie(res);
});

Deno.test("GET /healthz answers 200 without touching the session", async () => {
  const cookie = await adaCookie(app);
  const cases: Record<string, string>[] = [{}, { cookie }, { cookie: "sealed=garbage" }];
  for (const headers of cases) {
    const res = await app.request("/healthz", { headers });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ok");
    assertNoCookie(res);
    assert.equal(res.headers.get("vary"), null);
    assertSecurityHeaders(res);
  }
});

Deno.test("Unknown routes answer a 404 page in the format asked for", async (t) => {
  await t.step("HTML", async () => {
    const res = await app.request("/nowhere");
    assert.equal(res.status, 404);
    const html = await res.text();
    assert.match(html, /<title>Page not found/);
    assertCspCompatible(html);
    assertSecurityHeaders(res);
  });

  await t.step("JSON", async () => {
    const res = await app.request("/nowhere", { headers: { accept: "application/json" } });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: "There is nothing at this address." });
  });
});

Deno.test("Unexpected errors answer a 500 page that leaks nothing and are logged", async () => {
  logged.length = 0;
  for (const accept of [BROWSER_ACCEPT, "application/json", "text/plain"]) {
    const res = await app.request("/boom", { headers: { accept } });
    assert.equal(res.status, 500);
    const body = await res.text();
    assert.ok(!body.includes("hunter2"), body);
    assert.ok(!body.includes("boom"), body);
    assert.match(body, /could not answer this request/);
    assertSecurityHeaders(res);
  }
  assert.equal(logged.length, 3);
  assert.match(String(logged[0]), /hunter2/);
});

Deno.test("GET /style.css serves the stylesheet the CSP allows", async () => {
  const res = await app.request("/style.css");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/css/);
  assert.match(await res.text(), /font-family/);
  assertNoCookie(res);
});
