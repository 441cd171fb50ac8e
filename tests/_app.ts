/**
 * The greeting service shared by the `app_*_test.ts` files: one app built as `main.ts` builds
 * it, a second one under another secret, one storing enough to need several cookies, and the
 * helpers that drive them through `app.request()`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { cookieOf } from "./_cookie_jar.ts";
import { createApp } from "../main.ts";
import { session, type SessionEnv, SessionError, SessionTooLargeError } from "../lib/mod.ts";

export const SECRET = "routes test secret, long enough: 32+ bytes";
export const OTHER_SECRET = "another secret that is also long enough";
export const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

export type App = ReturnType<typeof createApp>;

/** Errors the shared app reported; the tests that look at it empty it first. */
export const logged: unknown[] = [];

// One app for every test, as a server has: the app holds no per-visitor state (sessions
// live in cookies). Built and warmed up before the tests run, because session keys are
// derived once per app, and on Deno 2.5 the node:crypto cipher that holds them is a
// resource the test sanitizer would blame on whichever test built the app.
export const app = createApp({ secrets: [SECRET], logError: (error) => logged.push(error) });
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
export const foreignApp = createApp({ secrets: [OTHER_SECRET] });
/** Another app with the same secret, storing enough to need several cookies. */
export const bigApp = new Hono<SessionEnv<{ blob: string }>>();
bigApp.use(session<{ blob: string }>({ secrets: [SECRET], maxCookieBytes: 16_384 }));
bigApp.get("/", (c) => {
  c.get("session").set("blob", crypto.randomUUID().repeat(150));
  return c.text("ok");
});
for (const warming of [app, foreignApp, bigApp]) {
  await (await warming.request("/session-data")).body?.cancel();
}

export function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

export function postGreeting(
  app: App,
  body: BodyInit | null,
  headers: Record<string, string> = {},
): Promise<Response> {
  // A Request rather than an init object: `app.request()`'s init type differs across Deno
  // versions (Deno 2.5 takes it from @types/node, which lacks FormData bodies).
  const request = new Request("http://localhost/greeting", { method: "POST", body, headers });
  return Promise.resolve(app.request(request));
}

export function postJson(app: App, value: unknown, accept = "application/json") {
  return postGreeting(app, JSON.stringify(value), {
    "content-type": "application/json",
    accept,
  });
}

/** A session cookie holding Ada Lovelace. */
export async function adaCookie(app: App): Promise<string> {
  const res = await postGreeting(app, form({ name: "Ada", lastname: "Lovelace" }));
  await res.body?.cancel();
  const cookie = cookieOf(res);
  assert.match(cookie, /^sealed=/);
  return cookie;
}

export async function sessionData(app: App, cookie: string): Promise<unknown> {
  const res = await app.request("/session-data", {
    headers: { cookie, accept: "application/json" },
  });
  assert.equal(res.status, 200);
  return await res.json();
}

export function assertNoCookie(res: Response): void {
  assert.deepEqual(res.headers.getSetCookie(), [], "expected no Set-Cookie");
}

export function assertSecurityHeaders(res: Response): void {
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
export function assertCspCompatible(html: string): void {
  assert.ok(!/<script/i.test(html), "page has a script element");
  assert.ok(!/\sstyle=/i.test(html), "page has an inline style");
  assert.ok(!/<style/i.test(html), "page has a style element");
  assert.ok(!/\son[a-z]+=/i.test(html), "page has an event handler attribute");
}

// A body that never ends unless its reader cancels it: proves the limit is enforced while
// streaming, not after reading everything (a bounded rest is read and thrown away).
export function endlessBody(): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean } {
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
