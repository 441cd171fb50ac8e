/**
 * The greeting service's "Remember me on this device": a greeting is a browser-session cookie
 * unless the box is ticked, in forms, multipart and JSON; anything else for `remember` is a 400.
 */

import assert from "node:assert/strict";
import { createApp } from "../main.ts";

const SECRET = "remember-me test secret, 32 bytes or more";
const MAX_AGE = 1_209_600;

const app = createApp({ secrets: [SECRET] });
const shortApp = createApp({ secrets: [SECRET], maxAge: 3600 });
// Keys are derived once per app: warm both up before the tests (see routes_test.ts).
for (const warming of [app, shortApp]) {
  await (await warming.request("/session-data")).body?.cancel();
}

type App = typeof app;

function post(
  target: App,
  body: BodyInit,
  headers: Record<string, string> = {},
): Promise<Response> {
  const request = new Request("http://localhost/greeting", { method: "POST", body, headers });
  return Promise.resolve(target.request(request));
}

function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams({ name: "Ada", lastname: "Lovelace", ...fields });
}

function json(fields: Record<string, unknown>): [string, Record<string, string>] {
  return [
    JSON.stringify({ name: "Ada", lastname: "Lovelace", ...fields }),
    { "content-type": "application/json", accept: "application/json" },
  ];
}

function multipart(fields: Record<string, string | Blob>): FormData {
  const body = new FormData();
  body.set("name", "Ada");
  body.set("lastname", "Lovelace");
  for (const [key, value] of Object.entries(fields)) body.set(key, value);
  return body;
}

/** The session cookie a response sets. */
function sessionCookie(res: Response): string {
  const headers = res.headers.getSetCookie().filter((h) => h.startsWith("sealed="));
  assert.equal(headers.length, 1, `one session cookie, got ${res.headers.getSetCookie()}`);
  return headers[0]!;
}

function maxAgeOf(setCookie: string): number | undefined {
  const match = /;\s*Max-Age=(\d+)/i.exec(setCookie);
  assert.doesNotMatch(setCookie, /;\s*Expires=/i, "the library writes Max-Age, never Expires");
  return match ? Number(match[1]) : undefined;
}

async function homePage(target: App, setCookie: string): Promise<string> {
  const res = await target.request("/", { headers: { cookie: setCookie.split(";", 1)[0]! } });
  assert.equal(res.status, 200);
  return await res.text();
}

const REMEMBER_BOX = /<input id="remember" name="remember" type="checkbox"( checked)?/;

// Posts a greeting, which must succeed; returns its cookie and the home page seen with it.
async function greetThenVisit(
  send: () => Promise<Response>,
): Promise<{ cookie: string; page: string }> {
  const res = await send();
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const cookie = sessionCookie(res);
  return { cookie, page: await homePage(app, cookie) };
}

Deno.test("a greeting without Remember me is a browser-session cookie", async (t) => {
  for (
    const [label, send] of [
      ["URL-encoded form", () => post(app, form({}))],
      ["multipart form", () => post(app, multipart({}))],
      ["JSON", () => post(app, ...json({}))],
      ["JSON with remember: false", () => post(app, ...json({ remember: false }))],
    ] as const
  ) {
    await t.step(label, async () => {
      const { cookie, page } = await greetThenVisit(send);
      assert.equal(maxAgeOf(cookie), undefined);
      assert.match(page, /Welcome back, Ada Lovelace/);
      assert.match(page, /You will be forgotten when you close your browser/);
      assert.equal(REMEMBER_BOX.exec(page)?.[1], undefined, "the box is shown unticked");
    });
  }
});

Deno.test("a greeting with Remember me lasts SESSION_MAX_AGE", async (t) => {
  for (
    const [label, send] of [
      ["URL-encoded form, remember=on", () => post(app, form({ remember: "on" }))],
      ["multipart form, remember=on", () => post(app, multipart({ remember: "on" }))],
      ["JSON, remember: true", () => post(app, ...json({ remember: true }))],
    ] as const
  ) {
    await t.step(label, async () => {
      const { cookie, page } = await greetThenVisit(send);
      assert.equal(maxAgeOf(cookie), MAX_AGE);
      assert.match(page, /This device remembers you until <time datetime="[^"]+">/);
      assert.equal(REMEMBER_BOX.exec(page)?.[1], " checked", "the box is shown ticked");
    });
  }
  await t.step("with SESSION_MAX_AGE=3600, Max-Age=3600", async () => {
    const res = await post(shortApp, form({ remember: "on" }));
    await res.body?.cancel();
    assert.equal(maxAgeOf(sessionCookie(res)), 3600);
  });
});

Deno.test("the greeting page says which kind of session the visitor has", async () => {
  const remembered = await post(app, form({ remember: "on" }));
  assert.match(await remembered.text(), /<p id="session-kind">This device remembers you until/);
  const forgotten = await post(app, form({}));
  assert.match(await forgotten.text(), /<p id="session-kind">You will be forgotten when you close/);
});

Deno.test("each greeting posts the choice anew: unticking forgets the device", async () => {
  const first = await post(app, form({ remember: "on" }));
  await first.body?.cancel();
  const cookie = sessionCookie(first).split(";", 1)[0]!;
  const again = await post(app, form({ name: "Grace" }), { cookie });
  await again.body?.cancel();
  assert.equal(maxAgeOf(sessionCookie(again)), undefined);
  assert.match(await homePage(app, sessionCookie(again)), /Welcome back, Grace Lovelace/);
});

Deno.test("the form's checkbox has a label and a hint, and needs no script", async () => {
  const page = await (await app.request("/")).text();
  assert.match(page, REMEMBER_BOX);
  assert.match(page, /<label for="remember">Remember me on this device<\/label>/);
  assert.match(page, /aria-describedby="remember-hint"/);
  assert.match(page, /<p id="remember-hint" class="hint">/);
  assert.doesNotMatch(page, /<script/i);
});

Deno.test("any other remember value is a 400 that names the field and saves nothing", async (t) => {
  const text = { accept: "text/plain" };
  const jsonAsText = (fields: Record<string, unknown>) => {
    const [body, headers] = json(fields);
    return post(app, body, { ...headers, ...text });
  };
  const refused: [string, () => Promise<Response>, string][] = [
    ["form: yes", () => post(app, form({ remember: "yes" }), text), 'received "yes"'],
    ["form: true", () => post(app, form({ remember: "true" }), text), 'received "true"'],
    ["form: empty", () => post(app, form({ remember: "" }), text), 'received ""'],
    ["multipart: off", () => post(app, multipart({ remember: "off" }), text), 'received "off"'],
    [
      "multipart: a file",
      () => post(app, multipart({ remember: new File(["on"], "on.txt") }), text),
      "received a file",
    ],
    ['JSON: "on"', () => jsonAsText({ remember: "on" }), 'received "on"'],
    ["JSON: 1", () => jsonAsText({ remember: 1 }), "received 1"],
    ["JSON: null", () => jsonAsText({ remember: null }), "received null"],
    ["JSON: an array", () => jsonAsText({ remember: [true] }), "received an array"],
  ];
  for (const [label, send, received] of refused) {
    await t.step(label, async () => {
      const res = await send();
      assert.equal(res.status, 400);
      assert.deepEqual(res.headers.getSetCookie(), [], "nothing saved");
      const body = await res.text();
      assert.ok(body.startsWith('Field "remember" must be '), body);
      assert.ok(body.endsWith(received), body);
    });
  }
  await t.step("JSON clients get the field's reason under fields.remember", async () => {
    const res = await post(app, ...json({ remember: "yes" }));
    assert.deepEqual(await res.json(), {
      error: 'Field "remember" must be true or false, received "yes"',
      fields: { remember: 'must be true or false, received "yes"' },
    });
  });
  await t.step("text clients get the sentence", async () => {
    const res = await post(app, form({ remember: "yes" }), { accept: "text/plain" });
    assert.equal(
      await res.text(),
      'Field "remember" must be "on" (a ticked checkbox) or absent, received "yes"',
    );
  });
  await t.step("browsers get the form back, the box marked invalid and described", async () => {
    const res = await post(app, form({ remember: "yes" }));
    const page = await res.text();
    assert.match(page, /<h1>Please check the form<\/h1>/);
    assert.match(page, /role="alert"/);
    assert.match(
      page,
      /aria-describedby="remember-hint remember-error" aria-invalid="true"/,
    );
    assert.match(page, /<p id="remember-error" class="error">Remember me must be/);
    // The summary links to the box, which gets the focus as the first invalid field.
    assert.match(page, /<a [^>]*href="#remember">Remember me<\/a>/);
    assert.match(page, /<input id="remember"[^>]* autofocus/);
  });
  await t.step("a refused name keeps the box ticked on the form sent back", async () => {
    const res = await post(app, form({ name: " ", remember: "on" }));
    assert.equal(res.status, 400);
    assert.equal(REMEMBER_BOX.exec(await res.text())?.[1], " checked");
  });
});
