/**
 * `POST /greeting` through `app.request()`: every accepted body type and format, and every
 * refused input (400, 405, 413, 415) leaving the session as it was.
 */

import assert from "node:assert/strict";
import { cookieOf } from "./_cookie_jar.ts";
import { CLOSE_DELAY_MS } from "../routes/body.ts";
import {
  adaCookie,
  app,
  assertCspCompatible,
  assertNoCookie,
  BROWSER_ACCEPT,
  endlessBody,
  form,
  postGreeting,
  postJson,
  sessionData,
} from "./_app.ts";

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

  await t.step("with a summary linking each field to fix, and no stray attribute", async () => {
    const res = await postGreeting(app, form({}), { accept: BROWSER_ACCEPT });
    assert.equal(res.status, 400);
    const html = await res.text();
    const summary = html.match(/<div role="alert" class="summary">.*?<\/div>/s)?.[0] ?? "";
    assert.match(summary, /<a href="#name">First name<\/a> and <a href="#lastname">Last name<\/a>/);
    // A JSX key is only for reconciling, which a page rendered once to a string never does.
    assert.doesNotMatch(html, /\skey=/);
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
    // Given up a moment after the answer (CLOSE_DELAY_MS), never read to its end.
    const until = Date.now() + CLOSE_DELAY_MS + 5_000;
    while (!cancelled() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
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
