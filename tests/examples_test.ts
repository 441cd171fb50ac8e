/**
 * The README's example app (`examples/`): the README shows `app.ts` as it is, the README or
 * docs/ show every other file of the folder as it is, and the app counts visits, logs in and out
 * through `app.request()`; so does "Where you're signed in" (`devices.ts`), with two browsers of
 * one user. `deno task test:runtimes` serves it on every runtime from the packed npm
 * package.
 */

import assert from "node:assert/strict";
import { CookieJar } from "./_cookie_jar.ts";
import type { Hono } from "hono";
import { createApp } from "../examples/app.ts";
import { createDevicesApp, deviceLabel } from "../examples/devices.ts";
import type { SessionEnv } from "../lib/mod.ts";
import { kvRevocation } from "../lib/kv/mod.ts";

const ROOT = new URL("../", import.meta.url);

/** README.md, then every docs/*.md: where the files of examples/ must be shown. */
async function documents(): Promise<Map<string, string>> {
  const texts = new Map([["README.md", await Deno.readTextFile(new URL("README.md", ROOT))]]);
  for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
    if (!entry.isFile || !entry.name.endsWith(".md")) continue;
    texts.set(`docs/${entry.name}`, await Deno.readTextFile(new URL(`docs/${entry.name}`, ROOT)));
  }
  return texts;
}

/** Whether a Markdown text holds a file as one fenced TypeScript block, verbatim. */
function shows(markdown: string, source: string): boolean {
  // Four backticks when the file itself holds a fence (app.ts has one in its documentation).
  return ["```", "````"].some((fence) => markdown.includes(`${fence}ts\n${source}${fence}`));
}

Deno.test("the README shows examples/app.ts as it is", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const source = await Deno.readTextFile(new URL("examples/app.ts", ROOT));
  assert.ok(shows(readme, source), "README.md lacks examples/app.ts, verbatim");
});

Deno.test("the README or docs/ show every file of examples/ as it is", async () => {
  const texts = await documents();
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL("examples/", ROOT))) {
    if (entry.isFile) files.push(entry.name);
  }
  assert.ok(files.length >= 5, `examples/ holds ${files.join(", ")}`);
  for (const file of files.sort()) {
    const source = await Deno.readTextFile(new URL(`examples/${file}`, ROOT));
    const where = [...texts].filter(([, text]) => shows(text, source)).map(([name]) => name);
    assert.ok(where.length > 0, `neither README.md nor docs/ shows examples/${file} verbatim`);
  }
});

Deno.test("the example app counts visits, greets after login and forgets after logout", async () => {
  const app = createApp("an example secret of at least 32 bytes");
  const jar = new CookieJar();
  const get = async (path: string, method = "GET") => {
    const headers = jar.header ? { cookie: jar.header } : undefined;
    const res = await app.request(path, { method, headers });
    jar.store(res);
    return res;
  };
  assert.equal(await (await get("/")).text(), "Hello stranger, visit 1");
  assert.equal(await (await get("/")).text(), "Hello stranger, visit 2");
  assert.equal((await get("/login/Ada", "POST")).status, 303);
  assert.equal(await (await get("/")).text(), "Welcome! Hello Ada, visit 3");
  assert.equal(await (await get("/")).text(), "Hello Ada, visit 4");
  assert.equal((await get("/logout", "POST")).status, 303);
  assert.deepEqual(jar.names, []);
  assert.equal(await (await get("/")).text(), "Hello stranger, visit 1");
});

Deno.test("the example app with a revocation list signs a user out of every browser, or of every other one", async () => {
  using kv = await Deno.openKv(":memory:");
  const app = createApp("an example secret of at least 32 bytes", kvRevocation(kv));
  const browser = () => {
    const jar = new CookieJar();
    return async (path: string, method = "GET") => {
      const headers = jar.header ? { cookie: jar.header } : undefined;
      const res = await app.request(path, { method, headers });
      jar.store(res);
      return res;
    };
  };
  const [laptop, phone, other] = [browser(), browser(), browser()];
  await laptop("/login/Ada", "POST");
  await phone("/login/Ada", "POST");
  await other("/login/Grace", "POST");
  assert.match(await (await phone("/")).text(), /Hello Ada/);
  assert.equal((await laptop("/logout-others", "POST")).status, 303);
  assert.match(await (await phone("/")).text(), /Hello stranger/);
  assert.match(await (await laptop("/")).text(), /Hello Ada/, "this device stays signed in");
  await phone("/login/Ada", "POST");
  assert.equal((await laptop("/logout-everywhere", "POST")).status, 303);
  assert.match(await (await phone("/")).text(), /Hello stranger/);
  assert.match(await (await laptop("/")).text(), /Hello stranger/);
  assert.match(await (await other("/")).text(), /Hello Grace/);
});

/** A browser of the devices app: its own cookie jar and User-Agent, same-origin POSTs. */
function devicesBrowser(app: Hono<SessionEnv>, userAgent: string) {
  const jar = new CookieJar();
  const send = async (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("user-agent", userAgent);
    if (jar.header) headers.set("cookie", jar.header);
    // A Request, not (url, init): Deno 2.5 types Hono's init with Node's RequestInit.
    const res = await app.request(new Request(`http://localhost${path}`, { ...init, headers }));
    jar.store(res);
    return res;
  };
  const post = (path: string, form: Record<string, string> = {}) =>
    send(path, {
      method: "POST",
      headers: { origin: "http://localhost" },
      body: new URLSearchParams(form),
    });
  const list = async (): Promise<{ id: string; current: boolean; label: string }[]> =>
    (await (await send("/sessions", { headers: { accept: "application/json" } })).json()).sessions;
  const page = async () => await (await send("/sessions")).text();
  return { jar, send, post, list, page };
}

const FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
const SAFARI_IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
const SIGNED_OUT = /<h1>Sign in<\/h1>[\s\S]*<form method="post" action="\/login">/;

Deno.test("the devices app lists a user's browsers, signs one out, then all the others", async () => {
  using kv = await Deno.openKv(":memory:");
  const app = createDevicesApp("an example secret of at least 32 bytes", kvRevocation(kv));
  const [laptop, phone] = [
    devicesBrowser(app, FIREFOX_LINUX),
    devicesBrowser(app, SAFARI_IPHONE),
  ];
  assert.match(await laptop.page(), SIGNED_OUT);
  assert.equal((await laptop.post("/login", { user: "ada" })).status, 303);
  const login = await phone.post("/login", { user: "ada" });
  assert.equal(login.status, 303);
  assert.equal(login.headers.get("location"), "/sessions");

  const listed = await laptop.list();
  assert.deepEqual(listed.map((s) => [s.label, s.current]).sort(), [
    ["Firefox on Linux", true],
    ["Safari on iPhone", false],
  ]);
  const page = await laptop.page();
  assert.match(page, /<h1>Where you&#39;re signed in<\/h1>/);
  assert.match(page, /Firefox on Linux<\/strong> <em>This device<\/em>/);
  assert.match(
    page,
    /Safari on iPhone<\/strong><br>Signed in <time [^>]+>[^<]+<\/time>, last active/,
  );
  assert.match(page, /no passwords/);

  const other = listed.find((s) => !s.current)!;
  assert.equal((await laptop.post("/sessions/sign-out", { id: other.id })).status, 303);
  assert.match(await phone.page(), SIGNED_OUT);
  assert.equal(
    (await phone.send("/sessions", { headers: { accept: "application/json" } })).status,
    401,
  );
  assert.deepEqual((await laptop.list()).map((s) => s.label), ["Firefox on Linux"]);
  assert.doesNotMatch(await laptop.page(), /Sign out all other devices/);

  await phone.post("/login", { user: "ada" });
  assert.equal((await laptop.list()).length, 2);
  assert.equal((await laptop.post("/sessions/sign-out-others")).status, 303);
  assert.match(await phone.page(), SIGNED_OUT);
  assert.deepEqual((await laptop.list()).map((s) => [s.label, s.current]), [[
    "Firefox on Linux",
    true,
  ]]);

  assert.equal((await laptop.post("/logout")).status, 303);
  assert.deepEqual(laptop.jar.names, []);
  assert.match(await laptop.page(), SIGNED_OUT);
});

Deno.test("the devices app refuses a cross-site POST with 403", async () => {
  using kv = await Deno.openKv(":memory:");
  const app = createDevicesApp("an example secret of at least 32 bytes", kvRevocation(kv));
  const ada = devicesBrowser(app, FIREFOX_LINUX);
  await ada.post("/login", { user: "ada" });
  // A form on https://evil.example posting to the app, with Ada's cookie.
  for (const path of ["/login", "/sessions/sign-out-others", "/logout"]) {
    const res = await ada.send(path, {
      method: "POST",
      headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      body: new URLSearchParams({ user: "mallory" }),
    });
    assert.equal(res.status, 403, path);
  }
  assert.equal((await ada.list()).length, 1, "still signed in");
});

Deno.test("the devices app answers a bad login form with 400", async () => {
  using kv = await Deno.openKv(":memory:");
  const app = createDevicesApp("an example secret of at least 32 bytes", kvRevocation(kv));
  const visitor = devicesBrowser(app, FIREFOX_LINUX);
  const forms: Record<string, string>[] = [
    {},
    { user: "" },
    { user: "   " },
    { user: "a".repeat(41) },
    { user: "null" },
  ];
  for (const form of forms) {
    const res = await visitor.post("/login", form);
    assert.equal(res.status, 400, JSON.stringify(form));
    assert.match(
      await res.text(),
      /<p role="alert">Type a user name of 1 to 40 characters.<\/p>/,
    );
  }
  assert.deepEqual(visitor.jar.names, []);
  assert.equal((await visitor.post("/sessions/sign-out")).status, 400);
});

Deno.test("the devices app escapes the user name and labels what it cannot name", async () => {
  using kv = await Deno.openKv(":memory:");
  const app = createDevicesApp("an example secret of at least 32 bytes", kvRevocation(kv));
  const visitor = devicesBrowser(app, "curl/8.5.0");
  await visitor.post("/login", { user: "<script>alert(1)</script>" });
  const page = await visitor.page();
  assert.match(page, /Signed in as <strong>&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/strong>/);
  assert.doesNotMatch(page, /<script>/);
  assert.match(page, /a browser<\/strong> <em>This device<\/em>/);
});

Deno.test("deviceLabel() names the browser and the system of a User-Agent", () => {
  const cases: [string | undefined, string][] = [
    [FIREFOX_LINUX, "Firefox on Linux"],
    [SAFARI_IPHONE, "Safari on iPhone"],
    [
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36",
      "Chrome on Windows",
    ],
    [
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0",
      "Edge on Windows",
    ],
    [
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
      "Safari on macOS",
    ],
    [
      "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36",
      "Chrome on Android",
    ],
    ["curl/8.5.0", "a browser"],
    [undefined, "a browser"],
  ];
  for (const [userAgent, label] of cases) assert.equal(deviceLabel(userAgent), label, userAgent);
});
