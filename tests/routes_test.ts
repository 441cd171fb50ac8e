/**
 * The greeting service through `app.request()`: every route, every refused input, and the
 * pure helpers behind them (configuration, negotiation, cross-site check).
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { createApp, loadConfig } from "../main.ts";
import {
  kvRevocation,
  session,
  type SessionEnv,
  SessionError,
  SessionTooLargeError,
} from "../lib/mod.ts";
import { ConfigError, isDevMode } from "../routes/config.ts";
import { acceptsHtmlExplicitly, preferredFormat } from "../routes/negotiate.ts";
import { isCrossSite } from "../routes/origin.ts";

const SECRET = "routes test secret, long enough: 32+ bytes";
const OTHER_SECRET = "another secret that is also long enough";
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

type App = ReturnType<typeof createApp>;

/** Errors the shared app reported; the tests that look at it empty it first. */
const logged: unknown[] = [];

// One app for every test, as a server has: the app holds no per-visitor state (sessions
// live in cookies). Built and warmed up before the tests run, because session keys are
// derived once per app, and on Deno 2.5 the node:crypto cipher that holds them is a
// resource the test sanitizer would blame on whichever test built the app.
const app = createApp({ secrets: [SECRET], logError: (error) => logged.push(error) });
app.get("/boom", () => {
  throw new Error("database password is hunter2");
});
app.get("/too-large", () => {
  throw new SessionTooLargeError(20_000, 16_384);
});
app.get("/store-down", () => {
  throw new SessionError("ERR_SESSION_STORE_UNAVAILABLE", "Cannot reach the session store");
});
app.get("/conflict", () => {
  throw new SessionError("ERR_SESSION_CONFLICT", "Another request changed it first");
});
/** The same service under another secret. */
const foreignApp = createApp({ secrets: [OTHER_SECRET] });
/** Another app with the same secret, storing enough to need several cookies. */
const bigApp = new Hono<SessionEnv<{ blob: string }>>();
bigApp.use(session<{ blob: string }>({ secrets: [SECRET] }));
bigApp.get("/", (c) => {
  c.get("session").set("blob", crypto.randomUUID().repeat(150));
  return c.text("ok");
});
for (const warming of [app, foreignApp, bigApp]) {
  await (await warming.request("/session-data")).body?.cancel();
}

/** `Cookie` header value from a response's `Set-Cookie`s, leaving out deletions. */
function cookieOf(res: Response): string {
  return res.headers.getSetCookie()
    .filter((header) => !/;\s*Max-Age=0\b/i.test(header))
    .map((header) => header.split(";", 1)[0])
    .join("; ");
}

function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

function postGreeting(
  app: App,
  body: BodyInit | null,
  headers: Record<string, string> = {},
): Promise<Response> {
  // A Request rather than an init object: `app.request()`'s init type differs across Deno
  // versions (Deno 2.5 takes it from @types/node, which lacks FormData bodies).
  const request = new Request("http://localhost/greeting", { method: "POST", body, headers });
  return Promise.resolve(app.request(request));
}

function postJson(app: App, value: unknown, accept = "application/json") {
  return postGreeting(app, JSON.stringify(value), {
    "content-type": "application/json",
    accept,
  });
}

/** A session cookie holding Ada Lovelace. */
async function adaCookie(app: App): Promise<string> {
  const res = await postGreeting(app, form({ name: "Ada", lastname: "Lovelace" }));
  await res.body?.cancel();
  const cookie = cookieOf(res);
  assert.match(cookie, /^session=/);
  return cookie;
}

async function sessionData(app: App, cookie: string): Promise<unknown> {
  const res = await app.request("/session-data", {
    headers: { cookie, accept: "application/json" },
  });
  assert.equal(res.status, 200);
  return await res.json();
}

function assertNoCookie(res: Response): void {
  assert.deepEqual(res.headers.getSetCookie(), [], "expected no Set-Cookie");
}

function assertSecurityHeaders(res: Response): void {
  const csp = res.headers.get("content-security-policy") ?? "";
  for (
    const directive of [
      "default-src 'none'",
      "style-src 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ]
  ) {
    assert.ok(csp.includes(directive), `CSP lacks ${directive}: ${csp}`);
  }
  assert.ok(!csp.includes("unsafe-inline"), "CSP must not allow inline code");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("referrer-policy"), "same-origin");
  assert.equal(res.headers.get("x-frame-options"), "DENY");
  assert.ok(res.headers.get("strict-transport-security"));
}

/** The page satisfies the CSP: no script, no inline style, no event handler attribute. */
function assertCspCompatible(html: string): void {
  assert.ok(!/<script/i.test(html), "page has a script element");
  assert.ok(!/\sstyle=/i.test(html), "page has an inline style");
  assert.ok(!/<style/i.test(html), "page has a style element");
  assert.ok(!/\son[a-z]+=/i.test(html), "page has an event handler attribute");
}

// A body that never ends unless its reader cancels it: proves the limit is enforced while
// streaming, not after reading everything (a bounded rest is read and thrown away).
function endlessBody(): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let cancelled = false;
  const chunk = new Uint8Array(1024).fill(0x61);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(chunk);
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

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

Deno.test("POST /greeting stores the names from every accepted body type", async (t) => {
  const cases: Array<
    [string, () => { body: BodyInit; headers: Record<string, string> }]
  > = [
    ["application/x-www-form-urlencoded", () => ({
      body: form({ name: "Ada", lastname: "Lovelace" }),
      headers: {},
    })],
    ["multipart/form-data", () => {
      const body = new FormData();
      body.set("name", "Ada");
      body.set("lastname", "Lovelace");
      return { body, headers: {} };
    }],
    ["application/json", () => ({
      body: JSON.stringify({ name: "Ada", lastname: "Lovelace" }),
      headers: { "content-type": "application/json" },
    })],
    ["application/json with a charset", () => ({
      body: JSON.stringify({ name: "Ada", lastname: "Lovelace" }),
      headers: { "content-type": "application/json; charset=utf-8" },
    })],
  ];
  for (const [type, make] of cases) {
    await t.step(`from ${type}`, async () => {
      const { body, headers } = make();
      const res = await postGreeting(app, body, { ...headers, accept: "text/plain" });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "Hello Ada Lovelace");
      assert.deepEqual(await sessionData(app, cookieOf(res)), {
        name: "Ada",
        lastname: "Lovelace",
      });
    });
  }
});

Deno.test("POST /greeting answers in the format the client asks for", async (t) => {
  const body = () => form({ name: "Ada", lastname: "Lovelace" });

  await t.step("an HTML page for browsers", async () => {
    const res = await postGreeting(app, body(), { accept: BROWSER_ACCEPT });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    const html = await res.text();
    assert.match(html, /<h1>Hello Ada Lovelace<\/h1>/);
    assertCspCompatible(html);
    assert.equal(res.headers.get("cache-control"), "no-store");
  });

  await t.step("an HTML page when Accept is absent", async () => {
    const res = await postGreeting(app, body());
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    await res.body?.cancel();
  });

  await t.step("plain text for Accept: text/plain", async () => {
    const res = await postGreeting(app, body(), { accept: "text/plain" });
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    assert.equal(await res.text(), "Hello Ada Lovelace");
  });

  await t.step("JSON for Accept: application/json", async () => {
    const res = await postGreeting(app, body(), { accept: "application/json" });
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(await res.json(), { greeting: "Hello Ada Lovelace" });
  });

  await t.step("the preferred type by quality", async () => {
    const res = await postGreeting(app, body(), {
      accept: "text/html;q=0.5, application/json;q=0.9",
    });
    assert.deepEqual(await res.json(), { greeting: "Hello Ada Lovelace" });
  });
});

Deno.test("POST /greeting trims the names before storing them", async () => {
  const res = await postJson(app, { name: "  Ada\t", lastname: "\n Lovelace " });
  assert.deepEqual(await res.json(), { greeting: "Hello Ada Lovelace" });
  assert.deepEqual(await sessionData(app, cookieOf(res)), { name: "Ada", lastname: "Lovelace" });
});

Deno.test("POST /greeting accepts names of exactly 100 characters, counted as characters", async () => {
  // 100 astral characters: 200 UTF-16 code units, 400 bytes, still 100 characters.
  const res = await postJson(app, { name: "a".repeat(100), lastname: "😀".repeat(100) });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});

Deno.test("POST /greeting answers 400 naming the missing field", async (t) => {
  await t.step("as JSON with the field and the reason", async () => {
    const res = await postJson(app, { name: "Ada" });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.deepEqual(body.fields, { lastname: "is required" });
    assert.match(body.error, /"lastname" is required/);
    assertNoCookie(res);
  });

  await t.step("as plain text", async () => {
    const res = await postGreeting(app, form({ lastname: "Lovelace" }), { accept: "text/plain" });
    assert.equal(res.status, 400);
    assert.equal(await res.text(), 'Field "name" is required');
    assertNoCookie(res);
  });

  await t.step("as the form again, marked up for assistive technology", async () => {
    const res = await postGreeting(app, form({ name: "Ada" }), { accept: BROWSER_ACCEPT });
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, /role="alert"/);
    assert.match(html, /Last name is required/);
    assert.match(html, /id="lastname"[^>]*aria-invalid="true" aria-describedby="lastname-error"/);
    // What the visitor typed is kept.
    assert.match(html, /id="name"[^>]*value="Ada"/);
    assertCspCompatible(html);
    assertNoCookie(res);
  });

  await t.step("naming both fields when both are missing", async () => {
    const res = await postJson(app, {});
    assert.equal(res.status, 400);
    assert.deepEqual((await res.json()).fields, {
      name: "is required",
      lastname: "is required",
    });
  });

  await t.step("treating an empty value as missing", async () => {
    const res = await postGreeting(app, form({ name: "", lastname: "Lovelace" }), {
      accept: "text/plain",
    });
    assert.equal(res.status, 400);
    assert.equal(await res.text(), 'Field "name" is required');
  });

  await t.step("treating JSON null as missing", async () => {
    const res = await postJson(app, { name: null, lastname: "Lovelace" });
    assert.deepEqual((await res.json()).fields, { name: "is required" });
  });
});

Deno.test("POST /greeting answers 400 for a name made only of whitespace", async () => {
  const res = await postJson(app, { name: "Ada", lastname: " \t\n " });
  assert.equal(res.status, 400);
  assert.deepEqual((await res.json()).fields, {
    lastname: "must not be blank (whitespace only)",
  });
  assertNoCookie(res);
});

Deno.test("POST /greeting answers 400 for a name over 100 characters", async () => {
  const res = await postJson(app, { name: "a".repeat(101), lastname: "Lovelace" });
  assert.equal(res.status, 400);
  assert.deepEqual((await res.json()).fields, {
    name: "must be at most 100 characters, received 101",
  });
  assertNoCookie(res);
});

Deno.test("POST /greeting answers 400 for a name with control characters", async () => {
  const res = await postJson(app, { name: "Ada\u0000", lastname: "Love\nlace" });
  assert.equal(res.status, 400);
  assert.deepEqual((await res.json()).fields, {
    name: "must not contain control characters",
    lastname: "must not contain control characters",
  });
});

Deno.test("POST /greeting answers 400 for JSON values that are not strings", async (t) => {
  const cases: Array<[string, unknown, string]> = [
    ["a number", 42, "must be a string, received number"],
    ["a boolean", true, "must be a string, received boolean"],
    ["an array", ["Ada"], "must be a string, received an array"],
    ["an object", { first: "Ada" }, "must be a string, received object"],
  ];
  for (const [label, value, problem] of cases) {
    await t.step(label, async () => {
      const res = await postJson(app, { name: value, lastname: "Lovelace" });
      assert.equal(res.status, 400);
      assert.deepEqual((await res.json()).fields, { name: problem });
      assertNoCookie(res);
    });
  }
});

Deno.test("POST /greeting answers 400 for a file in place of a name", async () => {
  const body = new FormData();
  body.set("name", new File(["Ada"], "name.txt", { type: "text/plain" }));
  body.set("lastname", "Lovelace");
  const res = await postGreeting(app, body, { accept: "application/json" });
  assert.equal(res.status, 400);
  assert.deepEqual((await res.json()).fields, { name: "must be a string, received a file" });
});

Deno.test("POST /greeting answers 400 for a body that does not decode", async (t) => {
  const cases: Array<[string, BodyInit, string, RegExp]> = [
    ["malformed JSON", '{"name": "Ada",', "application/json", /not valid JSON/],
    ["a JSON array", '["Ada", "Lovelace"]', "application/json", /must be an object/],
    ["JSON null", "null", "application/json", /must be an object/],
    [
      "multipart without a boundary",
      "--x\r\nContent-Disposition: form-data; name=name\r\n\r\nAda\r\n--x--\r\n",
      "multipart/form-data",
      /multipart body could not be parsed/,
    ],
    [
      "a truncated multipart body",
      '--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nAda',
      "multipart/form-data; boundary=xyz",
      // Deno's parser keeps what it could read of a truncated body, so the part is lost.
      /multipart body could not be parsed|"name" is required/,
    ],
    [
      "invalid UTF-8",
      new Uint8Array([0x6e, 0x61, 0x6d, 0x65, 0x3d, 0xff, 0xfe]),
      "application/x-www-form-urlencoded",
      /not valid UTF-8/,
    ],
  ];
  for (const [label, body, type, message] of cases) {
    await t.step(label, async () => {
      const res = await postGreeting(app, body, {
        "content-type": type,
        accept: "application/json",
      });
      assert.equal(res.status, 400);
      assert.match((await res.json()).error, message);
      assertNoCookie(res);
    });
  }
});

Deno.test("POST /greeting answers 413 for a body over 16 KiB", async (t) => {
  const big = JSON.stringify({ name: "Ada", lastname: "L".repeat(16 * 1024) });

  await t.step("announced by Content-Length", async () => {
    const res = await postGreeting(app, big, {
      "content-type": "application/json",
      "content-length": String(big.length),
      accept: "application/json",
    });
    assert.equal(res.status, 413);
    assert.match((await res.json()).error, /larger than the limit of 16384 bytes/);
    assertNoCookie(res);
  });

  await t.step("streamed without Content-Length, never reading the whole body", async () => {
    const { stream, cancelled } = endlessBody();
    const res = await app.request(
      new Request("http://localhost/greeting", {
        method: "POST",
        body: stream,
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/plain" },
        // @ts-ignore: `duplex` is required for stream bodies but missing from RequestInit's type.
        duplex: "half",
      }),
    );
    assert.equal(res.status, 413);
    assert.match(await res.text(), /larger than the limit/);
    assert.ok(cancelled(), "the request body was not cancelled");
  });

  await t.step("understated by Content-Length", async () => {
    const res = await postGreeting(app, big, {
      "content-type": "application/json",
      "content-length": "10",
      accept: "application/json",
    });
    assert.equal(res.status, 413);
    await res.body?.cancel();
  });

  await t.step("but accepts a body of exactly 16 KiB", async () => {
    const padding = 16 * 1024 - JSON.stringify({ name: "Ada", lastname: "Lovelace", p: "" }).length;
    const body = JSON.stringify({ name: "Ada", lastname: "Lovelace", p: "x".repeat(padding) });
    assert.equal(body.length, 16 * 1024);
    const res = await postGreeting(app, body, { "content-type": "application/json" });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });
});

Deno.test("POST /greeting answers 415 for other content types", async (t) => {
  for (
    const [label, type] of [
      ["text/plain", "text/plain"],
      ["application/xml", "application/xml"],
      ["a missing Content-Type", undefined],
    ] as const
  ) {
    await t.step(label, async () => {
      const headers: Record<string, string> = { accept: "application/json" };
      if (type) headers["content-type"] = type;
      const res = await postGreeting(app, type ? "name=Ada&lastname=Lovelace" : null, headers);
      assert.equal(res.status, 415);
      assert.match((await res.json()).error, /application\/x-www-form-urlencoded/);
      assertNoCookie(res);
    });
  }
});

Deno.test("POST /greeting leaves the session unchanged when refused", async () => {
  const cookie = await adaCookie(app);
  const res = await postJson(app, { name: "Grace" });
  assert.equal(res.status, 400);
  await res.body?.cancel();
  assertNoCookie(res);
  assert.deepEqual(await sessionData(app, cookie), { name: "Ada", lastname: "Lovelace" });
});

Deno.test("POST /greeting escapes HTML in names on every page", async () => {
  const name = '<script>alert("x")</script>';
  const res = await postGreeting(app, form({ name, lastname: "<b>&" }), {
    accept: BROWSER_ACCEPT,
  });
  const cookie = cookieOf(res);
  const pages = [
    await res.text(),
    await (await app.request("/", { headers: { cookie } })).text(),
    await (await app.request("/session-data", { headers: { cookie } })).text(),
  ];
  for (const html of pages) {
    assert.ok(!html.includes("<script>"), html);
    assert.ok(!html.includes("<b>"), html);
    assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
    assert.match(html, /&lt;b&gt;&amp;/);
  }
});

Deno.test("POST /greeting answers 405 to other methods", async () => {
  const res = await app.request("/greeting", { headers: { accept: "text/plain" } });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get("allow"), "POST");
  await res.body?.cancel();
});

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
  const good = (await adaCookie(app)).slice("session=".length);
  // Flip one character in the middle of the sealed value (ciphertext or tag).
  const middle = Math.floor(good.length / 2);
  const flipped = good.slice(0, middle) + (good[middle] === "A" ? "B" : "A") +
    good.slice(middle + 1);
  const foreign = (await adaCookie(foreignApp))
    .slice("session=".length);

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
        headers: { cookie: `session=${value}`, accept: "application/json" },
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
    assert.match(expired ?? "", /^session=; Max-Age=0/);
  });

  await t.step("answering 204 to API clients", async () => {
    for (const accept of ["application/json", "*/*", undefined]) {
      const cookie = await adaCookie(app);
      const headers: Record<string, string> = { cookie };
      if (accept) headers.accept = accept;
      const res = await app.request("/logout", { method: "POST", headers });
      assert.equal(res.status, 204, `Accept: ${accept}`);
      assert.equal(res.body, null);
      assert.match(res.headers.getSetCookie()[0] ?? "", /^session=; Max-Age=0/);
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
    assert.match(cookie, /session\.1=/);

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

Deno.test("GET /healthz answers 200 without touching the session", async () => {
  const cookie = await adaCookie(app);
  const cases: Record<string, string>[] = [{}, { cookie }, { cookie: "session=garbage" }];
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

Deno.test("Over HTTPS the session cookie is __Host-session and Secure", async () => {
  const res = await app.request("https://greet.example/greeting", {
    method: "POST",
    body: form({ name: "Ada", lastname: "Lovelace" }),
    headers: { origin: "https://greet.example" },
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const [cookie] = res.headers.getSetCookie();
  assert.match(cookie ?? "", /^__Host-session=[^;]+;.*; Secure/);
});

Deno.test("GET /style.css serves the stylesheet the CSP allows", async () => {
  const res = await app.request("/style.css");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/css/);
  assert.match(await res.text(), /font-family/);
  assertNoCookie(res);
});

Deno.test("createApp() refuses a secret shorter than 32 bytes", () => {
  assert.throws(() => createApp({ secrets: ["short"] }), /at least 32 bytes/);
});

Deno.test("loadConfig() reads the configuration from environment variables", async (t) => {
  const secret = "a production secret of 32+ bytes!!";
  const older = "an older secret that is still 32+ bytes long";

  await t.step("with defaults for everything but the secret", () => {
    const config = loadConfig({ SESSION_SECRET: secret });
    assert.deepEqual(config, {
      secrets: [secret],
      nextSecrets: [],
      maxAge: 1_209_600,
      cookieSecure: "auto",
      idleTimeout: undefined,
      shutdownTimeout: 10,
      port: 8000,
      hostname: "0.0.0.0",
      ephemeralSecret: false,
      kv: undefined,
      store: false,
      flask: undefined,
    });
  });

  await t.step("with Deno KV revocation and the server-side store", () => {
    const config = loadConfig({
      SESSION_SECRET: secret,
      SESSION_KV: ".data/sessions.sqlite",
      SESSION_STORE: "kv",
    });
    assert.equal(config.kv, ".data/sessions.sqlite");
    assert.equal(config.store, true);
    assert.throws(
      () => loadConfig({ SESSION_SECRET: secret, SESSION_STORE: "kv" }),
      (e: unknown) => e instanceof ConfigError && /needs SESSION_KV/.test(e.message),
    );
    assert.throws(
      () => loadConfig({ SESSION_SECRET: secret, SESSION_KV: "x", SESSION_STORE: "redis" }),
      (e: unknown) => e instanceof ConfigError && e.variable === "SESSION_STORE",
    );
  });

  await t.step("with the Flask bridge, migrate mode by default", () => {
    const config = loadConfig({
      SESSION_SECRET: secret,
      FLASK_SECRET_KEY: "tutorial-secret-key",
      FLASK_SECRET_KEY_FALLBACKS: "older-key, oldest-key",
    });
    assert.deepEqual(config.flask, {
      mode: "migrate",
      secretKeys: ["tutorial-secret-key", "older-key", "oldest-key"],
      cookieName: "session",
      domain: undefined,
      path: "/",
      secure: false,
      sameSite: "Lax",
    });
    const shared = loadConfig({
      SESSION_SECRET: secret,
      FLASK_SECRET_KEY: "k",
      FLASK_SESSION_MODE: "shared",
      FLASK_SESSION_COOKIE_NAME: "flask_session",
    });
    assert.equal(shared.flask?.mode, "shared");
    assert.equal(shared.flask?.cookieName, "flask_session");
    assert.throws(
      () => loadConfig({ SESSION_SECRET: secret, FLASK_SECRET_KEY: "k", FLASK_SESSION_MODE: "x" }),
      (e: unknown) => e instanceof ConfigError && e.variable === "FLASK_SESSION_MODE",
    );
    assert.throws(
      () => loadConfig({ SESSION_SECRET: secret, FLASK_SESSION_MODE: "shared" }),
      (e: unknown) => e instanceof ConfigError && e.variable === "FLASK_SECRET_KEY",
    );
  });

  await t.step("with fallbacks after the secret, newest first", () => {
    const config = loadConfig({
      SESSION_SECRET: secret,
      SESSION_SECRET_FALLBACKS: ` ${older} , ${secret.toUpperCase()},`,
      SESSION_MAX_AGE: "3600",
      PORT: "0",
      HOSTNAME: "127.0.0.1",
    });
    assert.deepEqual(config.secrets, [secret, older, secret.toUpperCase()]);
    assert.equal(config.maxAge, 3600);
    assert.equal(config.port, 0);
    assert.equal(config.hostname, "127.0.0.1");
  });

  await t.step("refusing to start without SESSION_SECRET, saying how to make one", () => {
    for (const env of [{}, { SESSION_SECRET: "" }, { SESSION_SECRET: "   " }]) {
      assert.throws(() => loadConfig(env), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.variable, "SESSION_SECRET");
        assert.match(error.message, /SESSION_SECRET is not set/);
        assert.match(error.message, /openssl rand -base64 32/);
        assert.match(error.message, /crypto\.randomUUID\(\)\+crypto\.randomUUID\(\)/);
        return true;
      });
    }
  });

  await t.step("generating a throw-away secret in dev mode", () => {
    const a = loadConfig({}, { dev: true });
    const b = loadConfig({}, { dev: true });
    assert.equal(a.ephemeralSecret, true);
    assert.ok(new TextEncoder().encode(a.secrets[0]).length >= 32);
    assert.notEqual(a.secrets[0], b.secrets[0]);
  });

  await t.step("ignoring dev mode on Deno Deploy", () => {
    assert.throws(
      () => loadConfig({ DENO_DEPLOYMENT_ID: "abc123" }, { dev: true }),
      /SESSION_SECRET is not set \(required on Deno Deploy\)/,
    );
  });

  await t.step("naming the variable of a bad value", () => {
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ SESSION_SECRET: "too short" }, "SESSION_SECRET", /at least 32 bytes, received 9/],
      [
        { SESSION_SECRET: secret, SESSION_SECRET_FALLBACKS: `${older},short` },
        "SESSION_SECRET_FALLBACKS (entry 2)",
        /at least 32 bytes, received 5/,
      ],
      [{ SESSION_SECRET: secret, SESSION_MAX_AGE: "two weeks" }, "SESSION_MAX_AGE", /"two weeks"/],
      [{ SESSION_SECRET: secret, SESSION_MAX_AGE: "0" }, "SESSION_MAX_AGE", /greater than 0/],
      [{ SESSION_SECRET: secret, SESSION_MAX_AGE: "1.5" }, "SESSION_MAX_AGE", /whole number/],
      [{ SESSION_SECRET: secret, PORT: "http" }, "PORT", /"http"/],
      [{ SESSION_SECRET: secret, PORT: "70000" }, "PORT", /0 to 65535/],
    ];
    for (const [env, variable, message] of cases) {
      assert.throws(() => loadConfig(env), (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(error.variable, variable);
        assert.ok(error.message.includes(variable), error.message);
        assert.match(error.message, message);
        return true;
      });
    }
  });

  await t.step("detecting dev mode from --dev or SEALED_DEV=1", () => {
    assert.equal(isDevMode(["--dev"], {}), true);
    assert.equal(isDevMode([], { SEALED_DEV: "1" }), true);
    assert.equal(isDevMode([], {}), false);
    assert.equal(isDevMode([], { SEALED_DEV: "0" }), false);
  });
});

Deno.test("preferredFormat() negotiates HTML, JSON and plain text", () => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, "html"],
    ["", "html"],
    ["*/*", "html"],
    [BROWSER_ACCEPT, "html"],
    ["application/json", "json"],
    ["text/plain", "text"],
    ["text/*", "html"],
    ["text/plain, text/*;q=0.5", "text"],
    ["application/json;q=0.2, text/plain;q=0.8", "text"],
    ["text/html;q=0, */*", "json"],
    ["image/png", "html"],
    ["APPLICATION/JSON", "json"],
    ["application/json;q=abc, text/plain", "text"],
  ];
  for (const [accept, format] of cases) {
    assert.equal(preferredFormat(accept), format, `Accept: ${accept}`);
  }
  assert.equal(acceptsHtmlExplicitly(BROWSER_ACCEPT), true);
  assert.equal(acceptsHtmlExplicitly("*/*"), false);
  assert.equal(acceptsHtmlExplicitly("text/html;q=0"), false);
  assert.equal(acceptsHtmlExplicitly(undefined), false);
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
