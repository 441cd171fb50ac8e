/**
 * "Where you're signed in", through the middleware: a subject's list of signed-in sessions on
 * two instances sharing a revocation list, on Deno KV and on a real Redis. A laptop, a phone and
 * a tablet of `ada` sign in on either instance; the list shows them, ends one, ends all the
 * others, and forgets a session that logged out or expired.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { Redis } from "ioredis";
import {
  session,
  SessionConfigError,
  type SessionEnv,
  SessionError,
  type SessionRevocation,
} from "../lib/mod.ts";
import { kvRevocation } from "../lib/kv/mod.ts";
import { redisRevocation } from "../lib/redis/mod.ts";
import { CookieJar } from "./_cookie_jar.ts";
import { HAS_REDIS, startRedis } from "./redis_server.ts";

const SECRET = "the session list test's secret, 32+ bytes";

type Env = SessionEnv<{ name: string }>;

/** An instance: login with a label, the list as JSON, sign out one, the others, log out. */
function instance(revocation: SessionRevocation, clock: { now: number }): Hono<Env> {
  const app = new Hono<Env>();
  app.onError((error, c) => c.text(`${(error as { code?: string }).code ?? error}`, 500));
  app.use(session<{ name: string }>({ secrets: [SECRET], revocation, now: () => clock.now }));
  app.post("/login/:user", async (c) => {
    const s = c.get("session");
    s.setSubject(c.req.param("user"), { label: await c.req.text() });
    s.set("name", c.req.param("user"));
    return c.text("in");
  });
  app.get("/me", (c) => c.text(c.get("session").subject ?? "nobody"));
  app.get("/sessions", async (c) => c.json(await c.get("session").sessions()));
  app.post("/sign-out/:id", async (c) => c.json(await c.get("session").signOut(c.req.param("id"))));
  app.post("/sign-out-others", async (c) => {
    await c.get("session").signOutOthers();
    return c.text("done");
  });
  app.post("/regenerate", (c) => (c.get("session").regenerate(), c.text("done")));
  app.post("/logout", (c) => (c.get("session").destroy(), c.text("out")));
  return app;
}

interface Listed {
  id: string;
  current: boolean;
  label: string;
  issuedAt: string;
  lastSeenAt: string;
}

async function send(
  app: Hono<Env>,
  jar: CookieJar,
  method: string,
  path: string,
  body?: string,
): Promise<Response> {
  const res = await app.request(`http://localhost${path}`, {
    method,
    headers: { cookie: jar.header },
    body,
  });
  jar.store(res);
  return res;
}

const me = async (app: Hono<Env>, jar: CookieJar) =>
  await (await send(app, jar, "GET", "/me")).text();
const list = async (app: Hono<Env>, jar: CookieJar): Promise<Listed[]> =>
  await (await send(app, jar, "GET", "/sessions")).json();

/** The scenario over two instances' lists on one shared backend. */
async function scenario(
  t: Deno.TestContext,
  lists: (now: () => number) => Promise<[SessionRevocation, SessionRevocation]>,
): Promise<void> {
  // One clock for the middleware and the lists: expiry is a matter of time for both.
  const clock = { now: Date.now() };
  const [first, second] = await lists(() => clock.now);
  const one = instance(first, clock);
  const two = instance(second, clock);
  const [laptop, phone, tablet, bob] = [1, 2, 3, 4].map(() => new CookieJar());
  await send(one, laptop!, "POST", "/login/ada", "Firefox on Linux");
  clock.now += 1000;
  await send(two, phone!, "POST", "/login/ada", "Safari on iPhone");
  clock.now += 1000;
  await send(two, bob!, "POST", "/login/bob", "Chrome on Windows");

  await t.step("each device sees the subject's sessions, itself marked, newest first", async () => {
    const fromLaptop = await list(one, laptop!);
    assert.deepEqual(fromLaptop.map((s) => [s.label, s.current]), [
      ["Safari on iPhone", false],
      ["Firefox on Linux", true],
    ]);
    const fromPhone = await list(one, phone!);
    assert.deepEqual(fromPhone.map((s) => [s.label, s.current]), [
      ["Safari on iPhone", true],
      ["Firefox on Linux", false],
    ]);
    assert.equal(fromLaptop[0]!.id, fromPhone[0]!.id, "one handle per session");
    assert.match(fromLaptop[0]!.id, /^[0-9a-f]{16}$/);
    assert.deepEqual((await list(two, bob!)).map((s) => s.label), ["Chrome on Windows"]);
  });

  await t.step("regenerate() keeps the session's place and label in the list", async () => {
    await send(one, laptop!, "POST", "/regenerate");
    const after = await list(two, laptop!);
    assert.deepEqual(after.map((s) => [s.label, s.current]), [
      ["Safari on iPhone", false],
      ["Firefox on Linux", true],
    ]);
  });

  await t.step("a session of another subject cannot be signed out", async () => {
    const bobs = (await list(two, bob!))[0]!.id;
    assert.equal(await (await send(one, laptop!, "POST", `/sign-out/${bobs}`)).json(), false);
    assert.equal(await me(two, bob!), "bob");
    assert.equal(await (await send(one, laptop!, "POST", "/sign-out/not-a-handle")).json(), false);
  });

  await t.step("the laptop signs the phone out: refused on both instances", async () => {
    const phoneCopy = new CookieJar();
    phoneCopy.store(phone!.header.split("; "));
    const id = (await list(one, laptop!)).find((s) => !s.current)!.id;
    assert.equal(await (await send(one, laptop!, "POST", `/sign-out/${id}`)).json(), true);
    assert.equal(await (await send(one, laptop!, "POST", `/sign-out/${id}`)).json(), false);
    for (const app of [one, two]) assert.equal(await me(app, phoneCopy), "nobody");
    assert.deepEqual((await list(two, laptop!)).map((s) => s.label), ["Firefox on Linux"]);
  });

  await t.step(
    "signing out the other devices keeps this one signed in, under a new id",
    async () => {
      clock.now += 1000;
      await send(two, phone!, "POST", "/login/ada", "Safari on iPhone");
      await send(one, tablet!, "POST", "/login/ada", "Firefox on Android");
      const laptopBefore = new CookieJar();
      laptopBefore.store(laptop!.header.split("; "));
      clock.now += 1000;
      assert.equal(await (await send(two, laptop!, "POST", "/sign-out-others")).text(), "done");
      assert.notEqual(laptop!.header, laptopBefore.header, "a new id");
      for (const app of [one, two]) {
        assert.equal(await me(app, laptop!), "ada");
        assert.equal(await me(app, phone!), "nobody");
        assert.equal(await me(app, tablet!), "nobody");
        assert.equal(await me(app, laptopBefore), "nobody", "nor a copy of its old cookie");
        assert.equal(await me(app, bob!), "bob");
      }
      const left = await list(one, laptop!);
      assert.deepEqual(left.map((s) => [s.label, s.current]), [["Firefox on Linux", true]]);
    },
  );

  await t.step("a session that logs out leaves the list", async () => {
    const phoneAgain = new CookieJar();
    await send(one, phoneAgain, "POST", "/login/ada", "Safari on iPhone");
    assert.equal((await list(two, laptop!)).length, 2);
    await send(two, phoneAgain, "POST", "/logout");
    assert.deepEqual((await list(one, laptop!)).map((s) => s.label), ["Firefox on Linux"]);
  });

  await t.step("an expired session leaves the list", async () => {
    const old = new CookieJar();
    await send(one, old, "POST", "/login/ada", "an old browser");
    assert.equal((await list(one, laptop!)).length, 2);
    clock.now += 15 * 24 * 3600 * 1000;
    const fresh = new CookieJar();
    await send(two, fresh, "POST", "/login/ada", "a new browser");
    assert.deepEqual((await list(one, fresh)).map((s) => s.label), ["a new browser"]);
  });
}

Deno.test("a subject's sessions are listed and ended on Deno KV, across two instances", async (t) => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite3" });
  const [a, b] = [await Deno.openKv(path), await Deno.openKv(path)];
  try {
    await scenario(
      t,
      (now) =>
        Promise.resolve([
          kvRevocation(a, { cacheMs: 0, now }),
          kvRevocation(b, { cacheMs: 0, now }),
        ]),
    );
  } finally {
    a.close();
    b.close();
    await Deno.remove(path);
  }
});

Deno.test({
  name: "a subject's sessions are listed and ended on Redis, across two instances",
  ignore: !HAS_REDIS,
  async fn(t) {
    await using redis = await startRedis();
    const [a, b] = [new Redis(redis.url), new Redis(redis.url)];
    try {
      await scenario(t, (now) =>
        Promise.resolve([
          redisRevocation(a, { cacheMs: 0, now }),
          redisRevocation(b, { cacheMs: 0, now }),
        ]));
    } finally {
      a.disconnect();
      b.disconnect();
    }
  },
});

Deno.test("the sessions calls say what is missing: a list that keeps sessions, a subject", async () => {
  using kv = await Deno.openKv(":memory:");
  const app = new Hono<Env>();
  const caught: unknown[] = [];
  app.use(session({ secrets: [SECRET] }));
  app.post("/", async (c) => {
    const s = c.get("session");
    s.subject = "ada";
    for (
      const call of [
        () => s.sessions(),
        () => s.signOut("0123456789abcdef"),
        () => s.signOutOthers(),
      ]
    ) {
      await call().catch((error) => caught.push(error));
    }
    return c.text("ok");
  });
  await app.request("/", { method: "POST" });
  assert.equal(caught.length, 3);
  for (const error of caught) {
    assert.ok(error instanceof SessionConfigError, String(error));
    assert.match(error.message, /kvRevocation|redisRevocation/);
  }

  const listed = new Hono<Env>();
  const anonymous: unknown[] = [];
  listed.use(session({ secrets: [SECRET], revocation: kvRevocation(kv) }));
  listed.get("/", async (c) => {
    await c.get("session").sessions().catch((error) => anonymous.push(error));
    return c.text("ok");
  });
  await listed.request("/");
  assert.ok(anonymous[0] instanceof TypeError, String(anonymous[0]));
  assert.match(String(anonymous[0]), /no subject/);
});

Deno.test("the list of sessions outlives a restart, and an outage fails closed or open as configured", async (t) => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite3" });
  const clock = { now: Date.now() };
  try {
    const laptop = new CookieJar();
    const phone = new CookieJar();
    {
      const kv = await Deno.openKv(path);
      const app = instance(kvRevocation(kv), clock);
      await send(app, laptop, "POST", "/login/ada", "Firefox on Linux");
      clock.now += 1000;
      await send(app, phone, "POST", "/login/ada", "Safari on iPhone");
      kv.close();
    }
    await t.step(
      "restarted instances (a new client, an empty cache) see the same list",
      async () => {
        const kv = await Deno.openKv(path);
        try {
          const app = instance(kvRevocation(kv), clock);
          assert.deepEqual((await list(app, laptop)).map((s) => s.label), [
            "Safari on iPhone",
            "Firefox on Linux",
          ]);
        } finally {
          kv.close();
        }
      },
    );
    const kv = await Deno.openKv(path);
    const down = { on: false };
    const healthy = kvRevocation(kv);
    // The same list, whose every call fails while it is down, as a store that does not answer.
    const flaky = new Proxy(healthy, {
      get(target, name) {
        const value = Reflect.get(target, name);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) =>
          down.on
            ? Promise.reject(
              new SessionError("ERR_SESSION_STORE_UNAVAILABLE", "the list did not answer"),
            )
            : value.apply(target, args);
      },
    });
    try {
      for (const failOpen of [false, true]) {
        await t.step(`the list down, failing ${failOpen ? "open" : "closed"}`, async () => {
          const app = new Hono<Env>();
          app.onError((error, c) =>
            c.text((error as { code?: string }).code ?? String(error), 503)
          );
          app.use(
            session({ secrets: [SECRET], revocation: flaky, failOpen, now: () => clock.now }),
          );
          app.get("/sessions", async (c) => c.json(await c.get("session").sessions()));
          down.on = true;
          const logged: string[] = [];
          const error = console.error;
          console.error = (line: string) => void logged.push(line);
          try {
            const res = await app.request("/sessions", { headers: { cookie: laptop.header } });
            if (failOpen) assert.deepEqual(await res.json(), []);
            else assert.equal(await res.text(), "ERR_SESSION_STORE_UNAVAILABLE");
          } finally {
            console.error = error;
            down.on = false;
          }
          assert.ok(logged.some((line) => /failing (open|closed)/.test(line)));
        });
      }
    } finally {
      kv.close();
    }
  } finally {
    await Deno.remove(path);
  }
});
