/**
 * Sign out everywhere: every session of one subject ends on every instance within the
 * revocation list's cache time, on a real Redis and on one Deno KV file shared by two
 * instances (each with its own client and cache). Two browsers of user A on different
 * instances and one of user B; A signs out everywhere on instance 1.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { Redis } from "ioredis";
import {
  session,
  SessionConfigError,
  type SessionEnv,
  type SessionRevocation,
} from "../lib/mod.ts";
import { kvRevocation, kvStore } from "../lib/kv/mod.ts";
import { redisRevocation } from "../lib/redis/mod.ts";
import { connect, HAS_REDIS, ready, startRedis } from "./redis_server.ts";
import { CookieJar } from "./_cookie_jar.ts";

const SECRET = "sign out everywhere test secret, 32+ bytes";
/** The revocation lists' default cache time, and a margin. */
const WITHIN_CACHE_MS = 1200;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An instance of an app: login with a subject, who am I, sign out everywhere. */
function instance(revocation: SessionRevocation, extra: Record<string, unknown> = {}) {
  const app = new Hono<SessionEnv<{ name: string }>>();
  app.onError((error, c) => c.text((error as { code?: string }).code ?? "error", 503));
  app.use(session<{ name: string }>({ secrets: [SECRET], revocation, ...extra }));
  app.post("/login/:user", (c) => {
    const s = c.get("session");
    s.subject = c.req.param("user");
    s.set("name", c.req.param("user").toUpperCase());
    return c.text("in");
  });
  app.get("/me", (c) => c.text(c.get("session").subject ?? "nobody"));
  app.get("/data", (c) => c.text(c.get("session").get("name") ?? "none"));
  app.post("/everywhere", (c) => {
    c.get("session").signOutEverywhere();
    return c.text("out");
  });
  // The most natural handler: sign out, then tell the visitor so on the next page.
  app.post("/everywhere-with-notice", (c) => {
    const s = c.get("session");
    s.signOutEverywhere();
    s.flash("notice", "You were signed out on every device");
    return c.text("out");
  });
  app.get("/notice", (c) => c.text(c.get("session").consumeFlash<string>("notice") ?? "none"));
  return app;
}

/** A browser holding a copy of these cookies. */
function copyOf(header: string): CookieJar {
  const jar = new CookieJar();
  if (header) jar.store(header.split("; "));
  return jar;
}

async function visit(app: Hono<SessionEnv<{ name: string }>>, jar: CookieJar, path: string) {
  const method = ["/me", "/data", "/notice"].includes(path) ? "GET" : "POST";
  const res = await app.request(
    new Request(`http://localhost${path}`, { method, headers: { cookie: jar.header } }),
  );
  jar.store(res);
  return await res.text();
}

/** The scenario, over two instances' revocation lists on one shared store. */
async function signOutEverywhere(
  lists: () => Promise<[SessionRevocation, SessionRevocation]>,
  t: Deno.TestContext,
  extra: Record<string, unknown> = {},
  route: "/everywhere" | "/everywhere-with-notice" = "/everywhere",
) {
  const [first, second] = await lists();
  const one = instance(first, extra);
  const two = instance(second, extra);
  const [laptop, phone, bob] = [new CookieJar(), new CookieJar(), new CookieJar()];
  assert.equal(await visit(one, laptop, "/login/ada"), "in");
  assert.equal(await visit(two, phone, "/login/ada"), "in");
  assert.equal(await visit(two, bob, "/login/bob"), "in");
  // Each instance has checked (and cached) all three.
  for (const app of [one, two]) {
    for (const [jar, who] of [[laptop, "ada"], [phone, "ada"], [bob, "bob"]] as const) {
      assert.equal(await visit(app, copyOf(jar.header), "/me"), who);
    }
  }
  const laptopCopy = laptop.header;
  const phoneCopy = phone.header;

  await t.step(`A signs out everywhere on instance 1 (${route})`, async () => {
    assert.equal(await visit(one, laptop, route), "out");
    if (route === "/everywhere") {
      assert.deepEqual(laptop.names, [], "the current session ends too");
    } else {
      // A new, anonymous session carries the notice, on either instance.
      assert.equal(await visit(two, copyOf(laptop.header), "/me"), "nobody");
      assert.equal(
        await visit(two, copyOf(laptop.header), "/notice"),
        "You were signed out on every device",
      );
    }
  });
  await t.step(
    "within the cache time both of A's cookies are refused on both instances",
    async () => {
      await sleep(WITHIN_CACHE_MS);
      for (const app of [one, two]) {
        assert.equal(await visit(app, copyOf(laptopCopy), "/me"), "nobody");
        assert.equal(await visit(app, copyOf(phoneCopy), "/me"), "nobody");
      }
    },
  );
  await t.step("B's session is untouched", async () => {
    for (const app of [one, two]) {
      assert.equal(await visit(app, copyOf(bob.header), "/me"), "bob");
    }
  });
  await t.step("a fresh login of A works at once, on either instance", async () => {
    const again = new CookieJar();
    assert.equal(await visit(one, again, "/login/ada"), "in");
    assert.equal(await visit(one, again, "/me"), "ada");
    assert.equal(await visit(two, again, "/me"), "ada");
  });
  await t.step(
    "restarted instances (new clients, empty caches) do not bring A's old sessions back",
    async () => {
      const [fresh1, fresh2] = await lists();
      for (const app of [instance(fresh1, extra), instance(fresh2, extra)]) {
        assert.equal(await visit(app, copyOf(phoneCopy), "/me"), "nobody");
        assert.equal(await visit(app, copyOf(bob.header), "/me"), "bob");
      }
    },
  );
}

Deno.test("signOutEverywhere() on one Deno KV file shared by two instances", async (t) => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite3" });
  const opened: Deno.Kv[] = [];
  const open = () => {
    const kv = Deno.openKv(path);
    return kv.then((k) => (opened.push(k), k));
  };
  try {
    const kvs = [await open(), await open(), await open(), await open()];
    let next = 0;
    await signOutEverywhere(
      () => Promise.resolve([kvRevocation(kvs[next++]!), kvRevocation(kvs[next++]!)]),
      t,
    );
    next = 0;
    await signOutEverywhere(
      () => Promise.resolve([kvRevocation(kvs[next++]!), kvRevocation(kvs[next++]!)]),
      t,
      {},
      "/everywhere-with-notice",
    );
  } finally {
    for (const kv of opened) kv.close();
    await Deno.remove(path);
  }
});

Deno.test("signOutEverywhere() in store mode does not serve the ended sessions' data", async () => {
  using kv = await Deno.openKv(":memory:");
  const app = instance(kvRevocation(kv), { store: kvStore(kv) });
  const [laptop, phone] = [new CookieJar(), new CookieJar()];
  await visit(app, laptop, "/login/ada");
  await visit(app, phone, "/login/ada");
  assert.equal(await visit(app, phone, "/data"), "ADA");
  await visit(app, laptop, "/everywhere");
  assert.equal(await visit(app, phone, "/data"), "none");
});

Deno.test("signOutEverywhere() without a revocation list is a SessionConfigError at the call", async () => {
  const app = new Hono<SessionEnv>();
  let caught: unknown;
  app.use(session({ secrets: [SECRET] }));
  app.post("/", (c) => {
    const s = c.get("session");
    s.subject = "ada"; // a subject may be carried in stateless mode all the same
    try {
      s.signOutEverywhere();
    } catch (error) {
      caught = error;
    }
    return c.text(s.subject ?? "none");
  });
  assert.equal(await (await app.request("/", { method: "POST" })).text(), "ada");
  assert.ok(caught instanceof SessionConfigError, String(caught));
  assert.equal(caught.option, "revocation");
  assert.match(caught.message, /kvRevocation|redisRevocation/);
});

Deno.test({
  name: "signOutEverywhere() on one real Redis shared by two instances, through an outage",
  ignore: !HAS_REDIS,
  async fn(t) {
    const redis = await startRedis();
    const clients: Redis[] = [];
    const connected = async () => {
      const client = connect(redis.url);
      clients.push(client);
      await ready(client);
      return client;
    };
    try {
      for (const route of ["/everywhere", "/everywhere-with-notice"] as const) {
        await signOutEverywhere(
          async () => {
            const [a, b] = await Promise.all([connected(), connected()]);
            return [redisRevocation(a), redisRevocation(b)];
          },
          t,
          {},
          route,
        );
      }
      const list = redisRevocation(await connected(), { cacheMs: 0 });
      const app = instance(list);
      const jar = new CookieJar();
      await visit(app, jar, "/login/ada");
      await t.step(
        "Redis stopped: the check fails closed (503), never accepts unchecked",
        async () => {
          await redis.stop();
          assert.equal(
            await visit(app, copyOf(jar.header), "/me"),
            "ERR_SESSION_STORE_UNAVAILABLE",
          );
        },
      );
      await t.step("Redis back: the session is served again, then signed out", async () => {
        await redis.start();
        const deadline = Date.now() + 10_000;
        let answer = "";
        while (
          Date.now() < deadline &&
          (answer = await visit(app, copyOf(jar.header), "/me")) !== "ada"
        ) {
          await sleep(100);
        }
        assert.equal(answer, "ada");
        assert.equal(await visit(app, jar, "/everywhere"), "out");
      });
    } finally {
      for (const client of clients) client.disconnect();
      await redis.stop();
    }
  },
});

Deno.test("a cookie issued before a sign-out everywhere stays refused after a regenerate() inside the cache window", async () => {
  using kv = await Deno.openKv(":memory:");
  // Instance two caches answers for a minute: it has not heard of the sign-out yet.
  const one = instance(kvRevocation(kv));
  const two = instance(kvRevocation(kv, { cacheMs: 60_000 }));
  two.post("/regenerate", (c) => {
    c.get("session").regenerate();
    return c.text("regenerated");
  });
  const [laptop, phone] = [new CookieJar(), new CookieJar()];
  await visit(one, laptop, "/login/ada");
  await visit(one, phone, "/login/ada");
  const stolen = copyOf(laptop.header);
  assert.equal(await visit(two, stolen, "/me"), "ada", "instance two caches it as valid");
  await sleep(5); // the sign-out comes strictly after the stolen session's start
  assert.equal(await visit(one, phone, "/everywhere"), "out");

  // Within its cache window, instance two still serves the stolen copy, and regenerates it.
  assert.equal(await visit(two, stolen, "/regenerate"), "regenerated");
  assert.notEqual(stolen.header, laptop.header, "a new id was issued");
  // The new cookie carries the session's start: any instance that reads the list refuses it.
  for (const fresh of [one, instance(kvRevocation(kv))]) {
    assert.equal(await visit(fresh, copyOf(stolen.header), "/me"), "nobody");
  }
});

Deno.test("a login after a sign-out everywhere starts anew, even regenerated afterwards", async () => {
  using kv = await Deno.openKv(":memory:");
  const app = instance(kvRevocation(kv));
  app.post("/regenerate", (c) => {
    c.get("session").regenerate();
    return c.text("regenerated");
  });
  const laptop = new CookieJar();
  await visit(app, laptop, "/login/ada");
  await visit(app, laptop, "/everywhere");
  await visit(app, laptop, "/login/ada");
  await visit(app, laptop, "/regenerate");
  for (const fresh of [app, instance(kvRevocation(kv))]) {
    assert.equal(await visit(fresh, copyOf(laptop.header), "/me"), "ada");
  }
});
