import assert from "node:assert/strict";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { CookieJar, type SetCookie, setCookies } from "./_cookie_jar.ts";
import {
  type InvalidReason,
  type Session,
  session,
  SessionConfigError,
  type SessionEnv,
  type SessionOptions,
  SessionTooLargeError,
} from "../lib/mod.ts";
import { kvRevocation, kvStore } from "../lib/kv/mod.ts";
import { redisRevocation, redisStore } from "../lib/redis/mod.ts";
import { flaskMigration } from "../lib/flask/mod.ts";
import { createSealer } from "../lib/sealing/mod.ts";

const OLD = "the old secret, rotated out, 32+ bytes long";
const NEW = "the new secret, sealing from now on, 32+ bytes";
const OTHER = "an unrelated secret of some other application";
/** A whole second, so that the library's second-granular times line up with the clock. */
const T0 = 1_700_000_000_000;
const SECOND = 1000;
const DEFAULT_MAX_AGE = 14 * 24 * 60 * 60;

/** The session cookies a response sets (those whose name starts with `prefix`). */
function sessionCookies(res: Response, prefix = "sealed"): SetCookie[] {
  return setCookies(res).filter((c) => c.name === prefix || c.name.startsWith(`${prefix}.`));
}

interface App {
  // A Request, not (url, init): Deno 2.5 types Hono's init with Node's RequestInit.
  request(input: Request): Response | Promise<Response>;
}

interface Send {
  method?: string;
  json?: unknown;
  body?: string;
  /** The Cookie header; defaults to the jar's. */
  cookie?: string;
  /** Cookies to send, updated from the response. */
  jar?: CookieJar;
}

async function send(app: App, path: string, init: Send = {}): Promise<Response> {
  const url = path.startsWith("http") ? path : `http://localhost${path}`;
  const headers = new Headers();
  const cookie = init.cookie ?? init.jar?.header;
  if (cookie) headers.set("cookie", cookie);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  const res = await app.request(
    new Request(url, {
      method: init.method ?? (body === undefined ? "GET" : "POST"),
      headers,
      body,
    }),
  );
  init.jar?.store(res);
  return res;
}

interface Harness {
  app: Hono<SessionEnv>;
  /** Reasons given to onInvalid, in order. */
  invalid: InvalidReason[];
  /** Errors that reached app.onError. */
  errors: unknown[];
  /** The session clock, in milliseconds. */
  clock: { now: number };
}

/** An app with the session middleware and routes that exercise every Session method. */
function harness(options: Partial<SessionOptions> = {}): Harness {
  const invalid: InvalidReason[] = [];
  const errors: unknown[] = [];
  const clock = { now: T0 };
  const app = new Hono<SessionEnv>();
  app.onError((error, c) => {
    errors.push(error);
    return c.text(`failed: ${error.name}`, 500);
  });
  app.use(session({
    secrets: [NEW],
    now: () => clock.now,
    onInvalid: (reason) => void invalid.push(reason),
    ...options,
  }));
  app.get("/untouched", (c) => c.text("no session here"));
  app.get("/data", (c) => c.json(c.get("session").data));
  app.get("/info", (c) => {
    const s = c.get("session");
    return c.json({
      isNew: s.isNew,
      id: s.isNew ? null : s.id,
      issuedAt: s.issuedAt?.getTime() ?? null,
      expiresAt: s.expiresAt?.getTime() ?? null,
      data: s.data,
    });
  });
  app.post("/set", async (c) => {
    const s = c.get("session");
    for (const [key, value] of Object.entries(await c.req.json())) s.set(key, value);
    return c.json(s.data);
  });
  app.post("/delete/:key", (c) => c.json(c.get("session").delete(c.req.param("key"))));
  app.post("/cart", async (c) => {
    const cart = c.get("session").get("cart") as { items: string[] };
    cart.items.push(await c.req.text());
    return c.text("added");
  });
  app.post("/cart-via-data", async (c) => {
    const cart = c.get("session").data.cart as { items: string[] };
    cart.items.push(await c.req.text());
    return c.text("added");
  });
  app.post("/destroy", (c) => {
    c.get("session").destroy();
    return c.text("destroyed");
  });
  app.post("/destroy-and-set", async (c) => {
    const s = c.get("session");
    const before = s.id;
    s.destroy();
    for (const [key, value] of Object.entries(await c.req.json())) s.set(key, value);
    return c.json({ before, after: s.id });
  });
  app.post("/regenerate", (c) => {
    c.get("session").regenerate();
    return c.text("regenerated");
  });
  app.post("/clear", (c) => {
    c.get("session").clear();
    return c.text("cleared");
  });
  app.post("/flash", async (c) => {
    const s = c.get("session");
    for (const [key, value] of Object.entries(await c.req.json())) s.flash(key, value);
    return c.text("flashed");
  });
  app.get("/consume/:key", (c) => {
    return c.json({ value: c.get("session").consumeFlash(c.req.param("key")) ?? null });
  });
  return { app, invalid, errors, clock };
}

async function json(res: Response): Promise<unknown> {
  assert.equal(res.status, 200, `status ${res.status}: ${await res.clone().text()}`);
  return await res.json();
}

/** A session value with one character changed in the middle (the ciphertext). */
function tamper(value: string): string {
  const i = Math.floor(value.length / 2);
  return value.slice(0, i) + (value[i] === "A" ? "B" : "A") + value.slice(i + 1);
}

Deno.test("session() keeps data set in one request for the next ones", async (t) => {
  const { app, invalid } = harness();
  const jar = new CookieJar();

  await t.step("a first write sets one session cookie", async () => {
    const res = await send(app, "/set", { json: { name: "Ada", visits: 1 }, jar });
    assert.deepEqual(await json(res), { name: "Ada", visits: 1 });
    const cookies = sessionCookies(res);
    assert.equal(cookies.length, 1);
    assert.equal(cookies[0]!.name, "sealed");
    assert.match(cookies[0]!.value, /^[A-Za-z0-9_-]{100,}$/);
    assert.equal(cookies[0]!.maxAge, DEFAULT_MAX_AGE);
  });
  await t.step("a later request reads it, and sets no cookie when nothing changed", async () => {
    const res = await send(app, "/data", { jar });
    assert.deepEqual(await json(res), { name: "Ada", visits: 1 });
    assert.deepEqual(res.headers.getSetCookie(), []);
  });
  await t.step("storing an equal value again sets no cookie", async () => {
    const res = await send(app, "/set", { json: { name: "Ada" }, jar });
    assert.deepEqual(await json(res), { name: "Ada", visits: 1 });
    assert.deepEqual(res.headers.getSetCookie(), []);
  });
  await t.step("a changed value is written and read back", async () => {
    const res = await send(app, "/set", { json: { visits: 2 }, jar });
    assert.equal(sessionCookies(res).length, 1);
    assert.deepEqual(await json(await send(app, "/data", { jar })), { name: "Ada", visits: 2 });
  });
  await t.step("delete() removes one key and is written", async () => {
    const res = await send(app, "/delete/visits", { method: "POST", jar });
    assert.equal(await json(res), true);
    assert.equal(sessionCookies(res).length, 1);
    assert.deepEqual(await json(await send(app, "/data", { jar })), { name: "Ada" });
  });
  await t.step("a request without a cookie gets a new, empty session and no cookie", async () => {
    const res = await send(app, "/info");
    assert.deepEqual(await json(res), {
      isNew: true,
      id: null,
      issuedAt: null,
      expiresAt: null,
      data: {},
    });
    assert.deepEqual(res.headers.getSetCookie(), []);
  });
  assert.deepEqual(invalid, []);
});

Deno.test("session() writes a nested object changed in place, without set()", async () => {
  const { app } = harness();
  const jar = new CookieJar();
  await send(app, "/set", { json: { cart: { items: ["apple"] } }, jar });
  const res = await send(app, "/cart", { body: "pear", jar });
  assert.equal(res.status, 200);
  assert.equal(sessionCookies(res).length, 1);
  assert.deepEqual(await json(await send(app, "/data", { jar })), {
    cart: { items: ["apple", "pear"] },
  });
  // The same through `data`, whose copy is shallow.
  const again = await send(app, "/cart-via-data", { body: "plum", jar });
  assert.equal(sessionCookies(again).length, 1);
  assert.deepEqual(await json(await send(app, "/data", { jar })), {
    cart: { items: ["apple", "pear", "plum"] },
  });
});

Deno.test("session() opens the cookie only when the handler uses the session", async (t) => {
  const other = harness({ secrets: [OTHER] });
  const otherJar = new CookieJar();
  await send(other.app, "/set", { json: { a: 1 }, jar: otherJar });
  const valid = harness();
  const validJar = new CookieJar();
  await send(valid.app, "/set", { json: { a: 1 }, jar: validJar });
  const value = validJar.cookies.get("sealed")!;

  const cases: [string, string, InvalidReason][] = [
    ["garbage", "sealed=not-a-sealed-value", "malformed"],
    ["a truncated value", `sealed=${value.slice(0, 40)}`, "malformed"],
    ["a tampered value", `sealed=${tamper(value)}`, "forged"],
    ["a value sealed under another secret", otherJar.header, "unknown-key"],
  ];
  for (const [label, cookie, reason] of cases) {
    await t.step(`${label}: untouched, it is left alone and not reported`, async () => {
      const { app, invalid } = harness();
      const res = await send(app, "/untouched", { cookie });
      assert.equal(await res.text(), "no session here");
      assert.deepEqual(res.headers.getSetCookie(), []);
      assert.equal(res.headers.get("vary"), null);
      assert.deepEqual(invalid, []);
    });
    await t.step(`${label}: used, it is an empty session reported as ${reason}`, async () => {
      const { app, invalid } = harness();
      const res = await send(app, "/info", { cookie });
      assert.deepEqual(await json(res), {
        isNew: true,
        id: null,
        issuedAt: null,
        expiresAt: null,
        data: {},
      });
      assert.deepEqual(invalid, [reason]);
      // Kept: nothing shows the library wrote it. It may be another app's cookie of the same
      // name (cookies ignore ports), or sealed under a key another instance holds
      // (tests/rotation_test.ts, tests/fleet_test.ts); only a write replaces it.
      assert.deepEqual(sessionCookies(res), []);
      assert.match(res.headers.get("vary") ?? "", /cookie/i);
    });
  }
  await t.step("expired: used, it is an empty session reported as expired", async () => {
    const { app, invalid, clock } = harness({ maxAge: 60 });
    const jar = new CookieJar();
    await send(app, "/set", { json: { a: 1 }, jar });
    clock.now += 60 * SECOND;
    const untouched = await send(app, "/untouched", { jar: jar.copy() });
    assert.deepEqual(untouched.headers.getSetCookie(), []);
    assert.deepEqual(invalid, []);
    assert.deepEqual(await json(await send(app, "/data", { jar })), {});
    assert.deepEqual(invalid, ["expired"]);
  });
  await t.step("a valid cookie is not reported", async () => {
    const res = await send(valid.app, "/data", { jar: validJar });
    assert.deepEqual(await json(res), { a: 1 });
    assert.deepEqual(valid.invalid, []);
  });
  await t.step(
    "a throwing onInvalid hook does not break the request, and is logged by name and message",
    async () => {
      const { app } = harness({
        onInvalid: () => {
          throw Object.assign(new TypeError("hook failed"), { request: "the secret request" });
        },
      });
      const error = console.error;
      const logged: unknown[][] = [];
      console.error = (...args: unknown[]) => void logged.push(args);
      try {
        const res = await send(app, "/data", { cookie: "sealed=garbage" });
        assert.deepEqual(await json(res), {});
      } finally {
        console.error = error;
      }
      assert.deepEqual(logged, [["session: onInvalid hook failed: TypeError: hook failed"]]);
    },
  );
});

Deno.test(
  "session() never reports an untouched session, whatever the backend or cookie size",
  async () => {
    for (
      const [options, cookie] of [
        [{ backend: "webcrypto" }, "sealed=garbage"],
        [{}, `sealed=${"A".repeat(4 * 4096 + 1)}`],
      ] as const
    ) {
      const { app, invalid } = harness(options);
      const res = await send(app, "/untouched", { cookie });
      assert.deepEqual(res.headers.getSetCookie(), []);
      assert.deepEqual(invalid, [], `${JSON.stringify(options)}`);
    }
  },
);

Deno.test("session() pushes the idle deadline back only after the refresh point", async (t) => {
  const { app, invalid, clock } = harness({ idleTimeout: 60 });
  const jar = new CookieJar();
  let first: CookieJar;

  await t.step("a new session's cookie lasts the idle timeout", async () => {
    const res = await send(app, "/set", { json: { a: 1 }, jar });
    assert.equal(sessionCookies(res)[0]!.maxAge, 60);
    first = jar.copy();
  });
  await t.step("before the refresh point (half the idle timeout), nothing is written", async () => {
    clock.now = T0 + 30 * SECOND;
    const res = await send(app, "/data", { jar });
    assert.deepEqual(await json(res), { a: 1 });
    assert.deepEqual(res.headers.getSetCookie(), []);
  });
  await t.step(
    "after the refresh point, the cookie is re-written with a later deadline",
    async () => {
      clock.now = T0 + 31 * SECOND;
      const res = await send(app, "/data", { jar });
      assert.deepEqual(await json(res), { a: 1 });
      const cookies = sessionCookies(res);
      assert.equal(cookies.length, 1);
      assert.equal(cookies[0]!.maxAge, 60);
    },
  );
  await t.step("the old cookie expires at its deadline, the new one lives on", async () => {
    clock.now = T0 + 60 * SECOND;
    assert.deepEqual(await json(await send(app, "/data", { jar: first.copy() })), {});
    assert.deepEqual(invalid, ["expired"]);
    clock.now = T0 + 90 * SECOND;
    assert.deepEqual(await json(await send(app, "/data", { jar: jar.copy() })), { a: 1 });
  });
  await t.step("after the pushed deadline, the session is empty", async () => {
    clock.now = T0 + 91 * SECOND;
    const res = await send(app, "/data", { jar });
    assert.deepEqual(await json(res), {});
    assert.deepEqual(invalid, ["expired", "expired"]);
    assert.deepEqual(sessionCookies(res).map((c) => c.maxAge), [0]);
  });
  await t.step("idleRefreshAfter: 0 re-writes on every request", async () => {
    const eager = harness({ idleTimeout: 60, idleRefreshAfter: 0 });
    const jar = new CookieJar();
    await send(eager.app, "/set", { json: { a: 1 }, jar });
    eager.clock.now += SECOND;
    const res = await send(eager.app, "/data", { jar });
    assert.equal(sessionCookies(res).length, 1);
  });
});

Deno.test("session() ends a session at its absolute lifetime", async (t) => {
  await t.step("without an idle timeout", async () => {
    const { app, invalid, clock } = harness({ maxAge: 100 });
    const jar = new CookieJar();
    const res = await send(app, "/set", { json: { a: 1 }, jar });
    assert.equal(sessionCookies(res)[0]!.maxAge, 100);
    clock.now = T0 + 99 * SECOND;
    const read = await send(app, "/data", { jar });
    assert.deepEqual(await json(read), { a: 1 });
    assert.deepEqual(read.headers.getSetCookie(), []);
    clock.now = T0 + 100 * SECOND;
    assert.deepEqual(await json(await send(app, "/data", { jar })), {});
    assert.deepEqual(invalid, ["expired"]);
  });
  await t.step("idle refreshes never extend it", async () => {
    const { app, invalid, clock } = harness({ maxAge: 100, idleTimeout: 60 });
    const jar = new CookieJar();
    await send(app, "/set", { json: { a: 1 }, jar });
    clock.now = T0 + 31 * SECOND;
    assert.equal(sessionCookies(await send(app, "/data", { jar }))[0]!.maxAge, 60);
    clock.now = T0 + 80 * SECOND;
    // The idle deadline would be 140 s; it stops at the absolute expiry, 100 s.
    assert.equal(sessionCookies(await send(app, "/data", { jar }))[0]!.maxAge, 20);
    clock.now = T0 + 99 * SECOND;
    assert.deepEqual(await json(await send(app, "/data", { jar })), { a: 1 });
    clock.now = T0 + 100 * SECOND;
    assert.deepEqual(await json(await send(app, "/data", { jar })), {});
    assert.deepEqual(invalid, ["expired"]);
  });
  await t.step("writes do not extend it either", async () => {
    const { app, clock } = harness({ maxAge: 100 });
    const jar = new CookieJar();
    await send(app, "/set", { json: { n: 1 }, jar });
    clock.now = T0 + 70 * SECOND;
    const res = await send(app, "/set", { json: { n: 2 }, jar });
    assert.equal(sessionCookies(res)[0]!.maxAge, 30);
    clock.now = T0 + 100 * SECOND;
    assert.deepEqual(await json(await send(app, "/data", { jar })), {});
  });
  await t.step("a maxAge shortened in the configuration applies to issued sessions", async () => {
    const long = harness({ maxAge: 1000 });
    const jar = new CookieJar();
    await send(long.app, "/set", { json: { a: 1 }, jar });
    const short = harness({ maxAge: 100 });
    short.clock.now = T0 + 99 * SECOND;
    assert.deepEqual(await json(await send(short.app, "/data", { jar: jar.copy() })), { a: 1 });
    short.clock.now = T0 + 100 * SECOND;
    assert.deepEqual(await json(await send(short.app, "/data", { jar })), {});
    assert.deepEqual(short.invalid, ["expired"]);
  });
  await t.step("a maxAge longer than browsers keep cookies (400 days) is refused at set-up", () => {
    assert.throws(
      () => harness({ maxAge: 400 * 86_400 + 1 }),
      (e: unknown) => e instanceof SessionConfigError && e.option === "maxAge",
    );
    // 400 days itself is accepted.
    harness({ maxAge: 400 * 86_400 });
  });
});

Deno.test("session() rotates secrets: old cookies are read and re-sealed under the new one", async (t) => {
  const old = harness({ secrets: [OLD] });
  const rotated = harness({ secrets: [NEW, OLD] });
  const current = harness({ secrets: [NEW] });
  const jar = new CookieJar();
  await send(old.app, "/set", { json: { name: "Ada" }, jar });
  const oldCookie = jar.copy();

  await t.step("an app with only the new secret gives an empty session", async () => {
    assert.deepEqual(await json(await send(current.app, "/data", { jar: oldCookie.copy() })), {});
    assert.deepEqual(current.invalid, ["unknown-key"]);
  });
  await t.step("an app with [new, old] reads it and re-seals it on the same response", async () => {
    const res = await send(rotated.app, "/data", { jar });
    assert.deepEqual(await json(res), { name: "Ada" });
    const cookies = sessionCookies(res);
    assert.equal(cookies.length, 1);
    assert.notEqual(cookies[0]!.value, oldCookie.cookies.get("sealed"));
    assert.deepEqual(rotated.invalid, []);
  });
  await t.step("the re-sealed cookie is read by an app with only the new secret", async () => {
    const res = await send(current.app, "/data", { jar });
    assert.deepEqual(await json(res), { name: "Ada" });
    assert.deepEqual(res.headers.getSetCookie(), []);
    assert.deepEqual(current.invalid, ["unknown-key"]);
  });
  await t.step("and no longer by an app with only the old one", async () => {
    assert.deepEqual(await json(await send(old.app, "/data", { jar: jar.copy() })), {});
    assert.deepEqual(old.invalid, ["unknown-key"]);
  });
  await t.step("a re-sealed session keeps its id", async () => {
    const before = await json(await send(rotated.app, "/info", { jar: oldCookie.copy() }));
    const after = await json(await send(current.app, "/info", { jar }));
    assert.equal((before as { id: string }).id, (after as { id: string }).id);
  });
});

Deno.test("session() cookies of one cookieName are refused under another", async () => {
  const a = harness({ cookieName: "app_a" });
  const b = harness({ cookieName: "app_b" });
  const jar = new CookieJar();
  const res = await send(a.app, "/set", { json: { role: "admin" }, jar });
  assert.deepEqual(sessionCookies(res, "app_a").map((c) => c.name), ["app_a"]);
  const value = jar.cookies.get("app_a")!;
  assert.deepEqual(await json(await send(b.app, "/data", { jar })), {});
  assert.deepEqual(b.invalid, []);
  assert.deepEqual(await json(await send(b.app, "/data", { cookie: `app_b=${value}` })), {});
  assert.deepEqual(b.invalid, ["forged"]);
  assert.deepEqual(await json(await send(a.app, "/data", { cookie: `app_a=${value}` })), {
    role: "admin",
  });
});

Deno.test("session() splits a large session into chunks of at most 4096 bytes", async (t) => {
  const { app, invalid } = harness({ maxCookieBytes: 16_384 });
  const jar = new CookieJar();
  const chunkNames = (n: number) => Array.from({ length: n }, (_, i) => `sealed.${i}`);
  let chunks = 0;
  const big = "x".repeat(10_000);

  await t.step("about 10 KB is stored as sealed.0 … session.N, read back joined", async () => {
    const res = await send(app, "/set", { json: { big }, jar });
    const cookies = sessionCookies(res);
    chunks = cookies.length;
    assert.ok(chunks >= 3 && chunks <= 4, `${chunks} chunks`);
    assert.deepEqual(cookies.map((c) => c.name), chunkNames(chunks));
    for (const c of cookies) {
      assert.ok(c.raw.length <= 4096, `${c.name}: ${c.raw.length} bytes`);
      assert.equal(c.maxAge, DEFAULT_MAX_AGE);
      assert.equal(c.attributes.get("path"), "/");
      assert.equal(c.attributes.get("httponly"), true);
    }
    assert.deepEqual(await json(await send(app, "/data", { jar })), { big });
  });
  await t.step("chunks sent in another order are joined in index order", async () => {
    const reversed = [...jar.cookies].reverse().map(([k, v]) => `${k}=${v}`).join("; ");
    assert.deepEqual(await json(await send(app, "/data", { cookie: reversed })), { big });
  });
  await t.step("a missing chunk makes the session invalid", async () => {
    const partial = jar.copy();
    partial.cookies.delete(`sealed.${chunks - 1}`);
    assert.deepEqual(await json(await send(app, "/data", { jar: partial })), {});
    // Cut at a chunk boundary: not even whole base64url, or a short ciphertext.
    assert.equal(invalid.length, 1);
    assert.ok(["malformed", "forged"].includes(invalid[0]!), invalid[0]);
    invalid.length = 0;
  });
  await t.step("shrinking to fewer chunks expires the stale ones", async () => {
    const res = await send(app, "/set", { json: { big: "y".repeat(5000) }, jar });
    const cookies = sessionCookies(res);
    const written = cookies.filter((c) => c.maxAge! > 0).map((c) => c.name);
    const expired = cookies.filter((c) => c.maxAge === 0).map((c) => c.name);
    assert.deepEqual(written, chunkNames(2));
    assert.deepEqual(expired, chunkNames(chunks).slice(2));
    assert.deepEqual(jar.names, chunkNames(2));
    assert.deepEqual(await json(await send(app, "/data", { jar })), { big: "y".repeat(5000) });
  });
  await t.step("shrinking to one cookie expires every chunk", async () => {
    const res = await send(app, "/delete/big", { method: "POST", body: "", jar });
    assert.equal(res.status, 200);
    // The session is empty now, so the whole cookie goes.
    assert.deepEqual(jar.names, []);
    await send(app, "/set", { json: { big: "x".repeat(10_000) }, jar });
    const shrink = await send(app, "/set", { json: { big: "small" }, jar });
    const cookies = sessionCookies(shrink);
    assert.deepEqual(cookies.filter((c) => c.maxAge! > 0).map((c) => c.name), ["sealed"]);
    assert.deepEqual(
      cookies.filter((c) => c.maxAge === 0).map((c) => c.name).sort(),
      chunkNames(chunks),
    );
    assert.deepEqual(jar.names, ["sealed"]);
    assert.deepEqual(await json(await send(app, "/data", { jar })), { big: "small" });
  });
  await t.step("growing from one cookie to chunks expires the single cookie", async () => {
    const res = await send(app, "/set", { json: { big: "z".repeat(10_000) }, jar });
    const cookies = sessionCookies(res);
    assert.deepEqual(cookies.filter((c) => c.maxAge === 0).map((c) => c.name), ["sealed"]);
    assert.deepEqual(jar.names, chunkNames(chunks));
    assert.deepEqual(await json(await send(app, "/data", { jar })), { big: "z".repeat(10_000) });
  });
  await t.step("destroy() expires the cookie and every chunk", async () => {
    const res = await send(app, "/destroy", { method: "POST", jar });
    assert.equal(res.status, 200);
    const cookies = sessionCookies(res);
    assert.ok(cookies.every((c) => c.maxAge === 0 && c.value === ""));
    assert.deepEqual(cookies.map((c) => c.name).sort(), ["sealed", ...chunkNames(chunks)]);
    assert.deepEqual(jar.names, []);
  });
  assert.deepEqual(invalid, []);
});

Deno.test("session() refuses a session above maxCookieBytes through app.onError", async (t) => {
  const { app, errors } = harness({ maxCookieBytes: 2 * 4096 });
  const jar = new CookieJar();
  await send(app, "/set", { json: { note: "kept" }, jar });
  const before = jar.header;

  await t.step("the response is the app's error response, with no session cookie", async () => {
    const res = await send(app, "/set", { json: { big: "x".repeat(10_000) }, jar });
    assert.equal(res.status, 500);
    assert.equal(await res.text(), "failed: SessionTooLargeError");
    assert.deepEqual(sessionCookies(res), []);
    assert.equal(errors.length, 1);
    const error = errors[0];
    assert.ok(error instanceof SessionTooLargeError);
    assert.equal(error.code, "ERR_SESSION_TOO_LARGE");
    assert.equal(error.limit, 2 * 4096);
    assert.ok(error.size > error.limit, `size ${error.size}, limit ${error.limit}`);
    assert.ok(error.size > 10_000 * 4 / 3);
  });
  await t.step("the previous cookie stays and still opens", async () => {
    assert.equal(jar.header, before);
    assert.deepEqual(await json(await send(app, "/data", { jar })), { note: "kept" });
  });
  await t.step("a session that fits in maxCookieBytes is still written", async () => {
    const res = await send(app, "/set", { json: { big: "x".repeat(5000) }, jar });
    assert.deepEqual(sessionCookies(res).map((c) => c.name), ["sealed.0", "sealed.1", "sealed"]);
  });
});

Deno.test("session() refuses an oversized cookie header unread, as malformed", async (t) => {
  for (
    const [label, cookie] of [
      ["one cookie", `sealed=${"A".repeat(4 * 4096 + 1)}`],
      [
        "chunks",
        Array.from({ length: 5 }, (_, i) => `sealed.${i}=${"A".repeat(4000)}`).join("; "),
      ],
    ] as const
  ) {
    await t.step(label, async () => {
      const { app, invalid } = harness();
      const res = await send(app, "/data", { cookie });
      assert.deepEqual(await json(res), {});
      assert.deepEqual(invalid, ["malformed"]);
      assert.ok(sessionCookies(res).every((c) => c.maxAge === 0));
    });
  }
});

Deno.test("Session.destroy() ends the session", async (t) => {
  await t.step("it expires the cookie", async () => {
    const { app } = harness();
    const jar = new CookieJar();
    await send(app, "/set", { json: { a: 1 }, jar });
    const res = await send(app, "/destroy", { method: "POST", jar });
    assert.deepEqual(sessionCookies(res).map((c) => [c.name, c.value, c.maxAge]), [
      ["sealed", "", 0],
    ]);
    assert.deepEqual(await json(await send(app, "/info", { jar })), {
      isNew: true,
      id: null,
      issuedAt: null,
      expiresAt: null,
      data: {},
    });
  });
  await t.step("set() after destroy() starts a new session with a new id", async () => {
    const { app } = harness();
    const jar = new CookieJar();
    await send(app, "/set", { json: { a: 1, b: 2 }, jar });
    const old = (await json(await send(app, "/info", { jar }))) as { id: string };
    const res = await send(app, "/destroy-and-set", { json: { c: 3 }, jar });
    const ids = (await json(res)) as { before: string; after: string };
    assert.equal(ids.before, old.id);
    assert.notEqual(ids.after, old.id);
    assert.deepEqual(sessionCookies(res).map((c) => c.name), ["sealed"]);
    const info = (await json(await send(app, "/info", { jar }))) as { id: string; data: unknown };
    assert.equal(info.id, ids.after);
    assert.deepEqual(info.data, { c: 3 });
  });
  await t.step("destroy() without a cookie still deletes the cookie name", async () => {
    const { app } = harness();
    const res = await send(app, "/destroy", { method: "POST" });
    assert.deepEqual(sessionCookies(res).map((c) => [c.name, c.maxAge]), [["sealed", 0]]);
  });
});

Deno.test("Session.regenerate() keeps the data under a new id and issue time", async () => {
  const { app, clock } = harness({ maxAge: 1000 });
  const jar = new CookieJar();
  await send(app, "/set", { json: { user: "ada" }, jar });
  type Info = { id: string; issuedAt: number; expiresAt: number; data: unknown };
  const before = (await json(await send(app, "/info", { jar }))) as Info;
  assert.equal(before.issuedAt, T0);
  assert.equal(before.expiresAt, T0 + 1000 * SECOND);
  clock.now = T0 + 10 * SECOND;
  const res = await send(app, "/regenerate", { method: "POST", jar });
  assert.equal(sessionCookies(res).length, 1);
  assert.equal(sessionCookies(res)[0]!.maxAge, 1000);
  const after = (await json(await send(app, "/info", { jar }))) as Info;
  assert.match(after.id, /^[0-9a-f]{32}$/);
  assert.notEqual(after.id, before.id);
  assert.equal(after.issuedAt, T0 + 10 * SECOND);
  assert.equal(after.expiresAt, T0 + 1010 * SECOND);
  assert.deepEqual(after.data, { user: "ada" });
});

Deno.test("Session.flash() values are read once, on a later request", async () => {
  const { app } = harness();
  const jar = new CookieJar();
  await send(app, "/set", { json: { name: "Ada" }, jar });
  const flashed = await send(app, "/flash", { json: { notice: "Saved" }, jar });
  assert.equal(sessionCookies(flashed).length, 1);
  assert.deepEqual(await json(await send(app, "/data", { jar })), { name: "Ada" });
  const first = await send(app, "/consume/notice", { jar });
  assert.deepEqual(await json(first), { value: "Saved" });
  assert.equal(sessionCookies(first).length, 1);
  const second = await send(app, "/consume/notice", { jar });
  assert.deepEqual(await json(second), { value: null });
  assert.deepEqual(second.headers.getSetCookie(), []);
  assert.deepEqual(await json(await send(app, "/data", { jar })), { name: "Ada" });
});

Deno.test("Session.clear() deletes the cookie", async () => {
  const { app } = harness();
  const jar = new CookieJar();
  await send(app, "/set", { json: { a: 1 }, jar });
  await send(app, "/flash", { json: { notice: "x" }, jar });
  const res = await send(app, "/clear", { method: "POST", jar });
  assert.deepEqual(sessionCookies(res).map((c) => [c.name, c.value, c.maxAge]), [
    ["sealed", "", 0],
  ]);
  assert.deepEqual(jar.names, []);
  assert.deepEqual(await json(await send(app, "/consume/notice", { jar })), { value: null });
});

Deno.test("session() cookie attributes", async (t) => {
  await t.step(
    "by default: HttpOnly, SameSite=Lax, Path=/, no Secure or Domain over HTTP",
    async () => {
      const { app } = harness();
      const [cookie] = sessionCookies(await send(app, "/set", { json: { a: 1 } }));
      assert.equal(cookie!.name, "sealed");
      assert.deepEqual([...cookie!.attributes.keys()].sort(), [
        "httponly",
        "max-age",
        "path",
        "samesite",
      ]);
      assert.equal(cookie!.attributes.get("httponly"), true);
      assert.equal(cookie!.attributes.get("samesite"), "Lax");
      assert.equal(cookie!.attributes.get("path"), "/");
    },
  );
  await t.step("over HTTPS: __Host-sealed, Secure", async () => {
    const { app } = harness();
    const jar = new CookieJar();
    const res = await send(app, "https://example.com/set", { json: { a: 1 }, jar });
    const [cookie] = setCookies(res);
    assert.equal(cookie!.name, "__Host-sealed");
    assert.equal(cookie!.attributes.get("secure"), true);
    assert.equal(cookie!.attributes.get("path"), "/");
    assert.equal(cookie!.attributes.has("domain"), false);
    assert.deepEqual(await json(await send(app, "https://example.com/data", { jar })), { a: 1 });
  });
  await t.step("over HTTPS, a cookie named plain session is not read", async () => {
    const { app, invalid } = harness();
    const jar = new CookieJar();
    await send(app, "/set", { json: { a: 1 }, jar });
    assert.deepEqual(jar.names, ["sealed"]);
    assert.deepEqual(await json(await send(app, "https://example.com/data", { jar })), {});
    assert.deepEqual(invalid, []);
    // Nor is its value under the secure name: it was sealed for another cookie name.
    const value = jar.cookies.get("sealed");
    const res = await send(app, "https://example.com/data", { cookie: `__Host-sealed=${value}` });
    assert.deepEqual(await json(res), {});
    assert.deepEqual(invalid, ["forged"]);
  });
  await t.step("over HTTP, the __Host- cookie is not read", async () => {
    const { app } = harness();
    const jar = new CookieJar();
    await send(app, "https://example.com/set", { json: { a: 1 }, jar });
    assert.deepEqual(await json(await send(app, "/data", { jar })), {});
  });
  await t.step("a path or domain turns the prefix into __Secure-", async () => {
    const { app } = harness({ cookie: { path: "/app", domain: "example.com" } });
    const [cookie] = setCookies(await send(app, "https://example.com/set", { json: { a: 1 } }));
    assert.equal(cookie!.name, "__Secure-sealed");
    assert.equal(cookie!.attributes.get("path"), "/app");
    assert.equal(cookie!.attributes.get("domain"), "example.com");
  });
  await t.step("secure: true over HTTP (behind a TLS proxy) uses the secure name", async () => {
    const { app } = harness({ cookie: { secure: true } });
    const [cookie] = setCookies(await send(app, "/set", { json: { a: 1 } }));
    assert.equal(cookie!.name, "__Host-sealed");
    assert.equal(cookie!.attributes.get("secure"), true);
  });
  await t.step("secure: false over HTTPS keeps the plain name without Secure", async () => {
    const { app } = harness({ cookie: { secure: false } });
    const [cookie] = setCookies(await send(app, "https://example.com/set", { json: { a: 1 } }));
    assert.equal(cookie!.name, "sealed");
    assert.equal(cookie!.attributes.has("secure"), false);
  });
  await t.step("the other attributes are configurable", async () => {
    const { app } = harness({
      cookie: { sameSite: "Strict", httpOnly: false, partitioned: true },
    });
    const [cookie] = setCookies(await send(app, "https://example.com/set", { json: { a: 1 } }));
    assert.equal(cookie!.attributes.get("samesite"), "Strict");
    assert.equal(cookie!.attributes.has("httponly"), false);
    assert.equal(cookie!.attributes.get("partitioned"), true);
  });
});

Deno.test("session() appends its Set-Cookie to the handler's own", async () => {
  const app = new Hono<SessionEnv>();
  app.use(session({ secrets: [NEW] }));
  app.get("/", (c) => {
    c.header("Set-Cookie", "theme=dark; Path=/", { append: true });
    c.get("session").set("a", 1);
    c.header("Set-Cookie", "lang=en; Path=/", { append: true });
    return c.text("ok");
  });
  const res = await send(app, "/");
  assert.deepEqual(setCookies(res).map((c) => c.name), ["theme", "lang", "sealed"]);
});

Deno.test("session() refuses bad options at set-up, naming the option", async (t) => {
  const cases: [string, Partial<SessionOptions>, string][] = [
    ["maxAge 0", { maxAge: 0 }, "maxAge"],
    ["maxAge 1.5", { maxAge: 1.5 }, "maxAge"],
    ["idleTimeout -1", { idleTimeout: -1 }, "idleTimeout"],
    ["idleRefreshAfter 2", { idleRefreshAfter: 2 }, "idleRefreshAfter"],
    ["maxCookieBytes 100", { maxCookieBytes: 100 }, "maxCookieBytes"],
    ["maxCookieBytes 1.5", { maxCookieBytes: 1.5 }, "maxCookieBytes"],
    ['cookieName "a b"', { cookieName: "a b" }, "cookieName"],
    ['cookieName ""', { cookieName: "" }, "cookieName"],
    ["secrets []", { secrets: [] }, "secrets"],
    ["a short secret", { secrets: ["short"] }, "secrets[0]"],
    ["a short second secret", { secrets: [NEW, "short"] }, "secrets[1]"],
    ["two identical secrets", { secrets: [NEW, NEW] }, "secrets[1]"],
    [
      "sameSite None without Secure",
      { cookie: { sameSite: "None", secure: false } },
      "cookie.secure",
    ],
    [
      // "auto" leaves Secure off on plain HTTP, where browsers would refuse the cookie.
      "sameSite None with the default secure: auto",
      { cookie: { sameSite: "None" } },
      "cookie.sameSite",
    ],
    [
      "sameSite None with secure: auto",
      { cookie: { sameSite: "None", secure: "auto" } },
      "cookie.sameSite",
    ],
    ["a path without /", { cookie: { path: "app" } }, "cookie.path"],
    ["a domain with a space", { cookie: { domain: "a b" } }, "cookie.domain"],
  ];
  for (const [label, options, option] of cases) {
    await t.step(label, () => {
      assert.throws(
        () => session({ secrets: [NEW], ...options }),
        (error: unknown) => {
          assert.ok(error instanceof SessionConfigError, String(error));
          assert.equal(error.code, "ERR_SESSION_CONFIG");
          assert.equal(error.option, option);
          assert.ok(error.message.includes(`"${option}"`), error.message);
          return true;
        },
      );
    });
  }
  await t.step("good options are accepted", () => {
    session({
      secrets: [NEW, OLD],
      maxAge: 1,
      idleTimeout: 1,
      idleRefreshAfter: 1,
      maxCookieBytes: 50_000,
      cookieName: "x",
    });
  });
});

Deno.test("session() over the Web Crypto backend works end to end", async (t) => {
  const web = harness({ backend: "webcrypto", idleTimeout: 60, maxCookieBytes: 16_384 });
  const node = harness({ idleTimeout: 60, maxCookieBytes: 16_384 });
  const jar = new CookieJar();

  await t.step("set, read, change in place", async () => {
    await send(web.app, "/set", { json: { cart: { items: ["a"] } }, jar });
    const read = await send(web.app, "/data", { jar });
    assert.deepEqual(await json(read), { cart: { items: ["a"] } });
    assert.deepEqual(read.headers.getSetCookie(), []);
    assert.equal(sessionCookies(await send(web.app, "/cart", { body: "b", jar })).length, 1);
    assert.deepEqual(await json(await send(web.app, "/data", { jar })), {
      cart: { items: ["a", "b"] },
    });
  });
  await t.step("cookies are interchangeable with the node:crypto backend", async () => {
    assert.deepEqual(await json(await send(node.app, "/data", { jar })), {
      cart: { items: ["a", "b"] },
    });
    await send(node.app, "/set", { json: { by: "node" }, jar });
    assert.deepEqual(await json(await send(web.app, "/data", { jar })), {
      cart: { items: ["a", "b"] },
      by: "node",
    });
  });
  await t.step("idle refresh and expiry", async () => {
    web.clock.now = T0 + 31 * SECOND;
    assert.equal(sessionCookies(await send(web.app, "/data", { jar }))[0]!.maxAge, 60);
    web.clock.now = T0 + 91 * SECOND;
    assert.deepEqual(await json(await send(web.app, "/data", { jar })), {});
    assert.deepEqual(web.invalid, ["expired"]);
  });
  await t.step("a tampered cookie is an empty session, reported as forged", async () => {
    const fresh = new CookieJar();
    await send(web.app, "/set", { json: { a: 1 }, jar: fresh });
    const cookie = `sealed=${tamper(fresh.cookies.get("sealed")!)}`;
    assert.deepEqual(await json(await send(web.app, "/data", { cookie })), {});
    assert.deepEqual(web.invalid, ["expired", "forged"]);
  });
  await t.step("rotation re-seals under the new secret", async () => {
    const old = harness({ secrets: [OLD], backend: "webcrypto" });
    const rotated = harness({ secrets: [NEW, OLD], backend: "webcrypto" });
    const jar = new CookieJar();
    await send(old.app, "/set", { json: { a: 1 }, jar });
    assert.equal(sessionCookies(await send(rotated.app, "/data", { jar })).length, 1);
    assert.deepEqual(await json(await send(node.app, "/data", { jar })), { a: 1 });
  });
  await t.step("chunked sessions", async () => {
    const jar = new CookieJar();
    await send(web.app, "/set", { json: { big: "q".repeat(10_000) }, jar });
    assert.ok(jar.names.length >= 3);
    assert.deepEqual(await json(await send(web.app, "/data", { jar })), {
      big: "q".repeat(10_000),
    });
  });
});

Deno.test("session() reads a quoted cookie value", async () => {
  const { app, invalid } = harness();
  const jar = new CookieJar();
  await send(app, "/set", { json: { a: 1 }, jar });
  const cookie = `other=1; sealed="${jar.cookies.get("sealed")}"`;
  assert.deepEqual(await json(await send(app, "/data", { cookie })), { a: 1 });
  assert.deepEqual(invalid, []);
});

Deno.test("session() with SessionEnv<Data> types the session in handlers", async () => {
  type Data = { name: string; visits: number };
  const app = new Hono<SessionEnv<Data>>();
  app.use(session<Data>({ secrets: [NEW] }));
  app.get("/", (c) => {
    const s: Session<Data> = c.get("session");
    const visits: number = (s.get("visits") ?? 0) + 1;
    s.set("visits", visits);
    const name: string | undefined = s.get("name");
    return c.text(`${name ?? "stranger"} ${visits}`);
  });
  app.post("/name", (c) => {
    c.get("session").set("name", "Ada");
    return c.text("ok");
  });
  // Never called: these lines must fail to type-check, or `deno check` fails on the directive.
  const _mistakes = (s: Session<Data>) => {
    // @ts-expect-error visits is a number
    s.set("visits", "many");
    // @ts-expect-error no such key
    s.get("nmae");
    // @ts-expect-error a name is a string, not a number
    const _n: number | undefined = s.get("name");
  };
  const jar = new CookieJar();
  assert.equal(await (await send(app, "/", { jar })).text(), "stranger 1");
  await send(app, "/name", { method: "POST", jar });
  assert.equal(await (await send(app, "/", { jar })).text(), "Ada 2");
});

Deno.test("session() answers a repeated cookie from its open cache exactly as from a fresh open", async (t) => {
  for (const openCacheSize of [1000, 1, 0]) {
    await t.step(`with openCacheSize ${openCacheSize}`, async () => {
      let now = Date.UTC(2026, 0, 1);
      const reasons: string[] = [];
      const app = new Hono<SessionEnv<{ cart: { items: string[] } }>>();
      app.use(session({
        secrets: ["open cache test secret, 32 bytes or more"],
        maxAge: 60,
        openCacheSize,
        now: () => now,
        onInvalid: (reason) => reasons.push(reason),
      }));
      app.post("/add/:item", (c) => {
        const s = c.get("session");
        const cart = s.get("cart") ?? { items: [] };
        cart.items.push(c.req.param("item"));
        s.set("cart", cart);
        return c.json(cart.items);
      });
      app.get("/", (c) => c.json(c.get("session").get("cart") ?? null));
      const first = await app.request("/add/tea", { method: "POST" });
      const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
      // Two reads of one cookie: each gets its own copy of the data.
      assert.deepEqual(await (await app.request("/", { headers: { cookie } })).json(), {
        items: ["tea"],
      });
      const added = await app.request("/add/milk", { method: "POST", headers: { cookie } });
      assert.deepEqual(await added.json(), ["tea", "milk"]);
      assert.ok(added.headers.get("set-cookie"), "a nested change made to cached data is saved");
      assert.deepEqual(await (await app.request("/", { headers: { cookie } })).json(), {
        items: ["tea"],
      });
      // Expiry is checked on every request, hit or miss.
      now += 61_000;
      assert.equal(await (await app.request("/", { headers: { cookie } })).json(), null);
      assert.deepEqual(reasons, ["expired"]);
    });
  }
  assert.throws(
    () => session({ secrets: ["open cache test secret, 32 bytes or more"], openCacheSize: -1 }),
    (e: unknown) => e instanceof SessionConfigError && e.option === "openCacheSize",
  );
});

Deno.test("session() saves nothing from a handler that throws, and keeps what a client error's handler changed", async (t) => {
  const app = new Hono<SessionEnv>();
  app.onError((error, c) =>
    error instanceof HTTPException ? error.getResponse() : c.text("Internal Server Error", 500)
  );
  app.use(session({ secrets: [NEW] }));
  app.post("/name/:name", (c) => {
    c.get("session").set("name", c.req.param("name"));
    return c.text("saved");
  });
  app.post("/crash", (c) => {
    const s = c.get("session");
    s.set("name", "half a change");
    s.destroy();
    throw new Error("the database went away");
  });
  app.post("/refuse", (c) => {
    c.get("session").flash("error", "That did not work");
    throw new HTTPException(400, { message: "bad form" });
  });
  app.get("/", (c) => {
    const s = c.get("session");
    return c.json({ name: s.get("name") ?? null, error: s.consumeFlash("error") ?? null });
  });
  const jar = new CookieJar();
  const post = async (path: string) => {
    const res = await app.request(path, { method: "POST", headers: { cookie: jar.header } });
    jar.store(res);
    return res;
  };
  await post("/name/Ada");

  await t.step(
    "a thrown error answers 500 with no Set-Cookie, and the session is as it was",
    async () => {
      const res = await post("/crash");
      assert.equal(res.status, 500);
      assert.deepEqual(res.headers.getSetCookie(), []);
      const read = await app.request("/", { headers: { cookie: jar.header } });
      assert.deepEqual(await read.json(), { name: "Ada", error: null });
    },
  );
  await t.step(
    "an HTTPException of a client error keeps the handler's changes (a flash to show)",
    async () => {
      const res = await post("/refuse");
      assert.equal(res.status, 400);
      assert.equal(res.headers.getSetCookie().length, 1);
      const read = await app.request("/", { headers: { cookie: jar.header } });
      assert.deepEqual(await read.json(), { name: "Ada", error: "That did not work" });
    },
  );
});

Deno.test("every set-up function refuses a misspelt option, naming the one it resembles", async (t) => {
  const kv = await Deno.openKv(":memory:");
  // A client is only asked to send commands when a session is checked: none is, here.
  const client = { call: () => Promise.resolve(null) };
  const secrets = [NEW];
  const cases: [string, () => unknown, string, string][] = [
    ["session()", () => session({ secrets, maxage: 60 } as never), "maxage", "maxAge"],
    ["session()", () => session({ secret: NEW } as never), "secret", "secrets"],
    ["session()", () => session({ secrets, cookiename: "s" } as never), "cookiename", "cookieName"],
    [
      "session() cookie",
      () => session({ secrets, cookie: { samesite: "Strict" } as never }),
      "cookie.samesite",
      "cookie.sameSite",
    ],
    ["kvRevocation()", () => kvRevocation(kv, { cacheMS: 10 } as never), "cacheMS", "cacheMs"],
    ["kvStore()", () => kvStore(kv, { timeout: 10 } as never), "timeout", "timeoutMs"],
    [
      "redisRevocation()",
      () => redisRevocation(client, { prefx: "x" } as never),
      "prefx",
      "prefix",
    ],
    ["redisStore()", () => redisStore(client, { maxbytes: 10 } as never), "maxbytes", "maxBytes"],
    [
      "flaskMigration()",
      () => flaskMigration({ secretKeys: ["k"], cookie_name: "s" } as never),
      "flask.cookie_name",
      "flask.cookieName",
    ],
  ];
  try {
    for (const [where, setUp, option, meant] of cases) {
      await t.step(`${where}: ${option} is refused as a misspelling of ${meant}`, () => {
        assert.throws(setUp, (error: unknown) => {
          assert.ok(error instanceof SessionConfigError, String(error));
          assert.equal(error.option, option);
          assert.match(error.message, new RegExp(`did you mean "${meant}"\\?`));
          return true;
        });
      });
    }
    await t.step("createSealer(): a misspelt option rejects", async () => {
      await assert.rejects(
        createSealer({ secrets, backnd: "node" } as never),
        /did you mean "backend"\?/,
      );
    });
    await t.step("an option nothing resembles is refused, listing the options", () => {
      assert.throws(
        () => session({ secrets, colour: "blue" } as never),
        /is not an option \(the options are secrets, /,
      );
    });
  } finally {
    kv.close();
  }
});
