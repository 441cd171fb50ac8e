/**
 * The Redis layers (`lib/redis/mod.ts`) against a real `redis-server` on a loopback port:
 * revocation shared by two instances, the store's atomic writes, TTLs and expiry, size limit,
 * an unreachable or frozen Redis, and both npm clients.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { createClient } from "redis";
import { session, type SessionEnv } from "../lib/mod.ts";
import { type RedisClientLike, redisRevocation, redisStore } from "../lib/redis/mod.ts";
import { HAS_REDIS, ready, startRedis, withRedis } from "./redis_server.ts";
import { cookieOf } from "./_cookie_jar.ts";

const ignore = !HAS_REDIS;
const needs = ignore ? " (ignored: redis-server is not installed at /usr/bin/redis-server)" : "";

const newId = () => crypto.getRandomValues(new Uint8Array(16));
const hexOf = (id: Uint8Array) => Array.from(id, (b) => b.toString(16).padStart(2, "0")).join("");
const nowSeconds = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test({
  name: `redisRevocation: a logout on one instance is seen by another within cacheMs${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a, b) => {
      const here = redisRevocation(a, { cacheMs: 300 });
      const there = redisRevocation(b, { cacheMs: 300 });
      const id = newId();
      const issued = nowSeconds();
      assert.equal(await there.isRevoked(id, issued), false);
      await here.revoke(id, issued + 3600);
      assert.equal(await here.isRevoked(id, issued), true, "at once where it was revoked");
      assert.equal(await there.isRevoked(id, issued), false, "the other's answer is cached");
      await sleep(350);
      assert.equal(await there.isRevoked(id, issued), true, "and stale after cacheMs");
      assert.equal(await there.isRevoked(newId(), issued), false, "other sessions unaffected");
    }),
});

Deno.test({
  name: `redisRevocation keeps one key per revoked session, living its remaining lifetime${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a) => {
      const id = newId();
      const expiresAt = nowSeconds() + 120;
      await redisRevocation(a, { skewMs: 0 }).revoke(id, expiresAt);
      const key = `sealed-sessions:revoked:id:${hexOf(id)}`;
      assert.deepEqual(await a.keys("*"), [key]);
      assert.equal(await a.get(key), String(expiresAt));
      const pttl = await a.pttl(key);
      assert.ok(pttl > 115_000 && pttl <= 120_000, `PTTL ${pttl} is the remaining lifetime`);

      // With the default margin for clock skew, a minute more.
      const other = newId();
      await redisRevocation(a).revoke(other, expiresAt);
      const margin = await a.pttl(`sealed-sessions:revoked:id:${hexOf(other)}`);
      assert.ok(margin > 175_000 && margin <= 180_000, `PTTL ${margin}`);

      // A session that expires in a second leaves nothing behind soon after.
      const short = newId();
      await redisRevocation(a, { skewMs: 0, prefix: "app1:revoked" }).revoke(
        short,
        Date.now() / 1000 + 0.3,
      );
      assert.equal(await a.exists(`app1:revoked:id:${hexOf(short)}`), 1);
      await sleep(600);
      assert.equal(await a.exists(`app1:revoked:id:${hexOf(short)}`), 0);
    }),
});

Deno.test({
  name: `redisRevocation.revokeAllBefore uses one key and only moves forward${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a, b) => {
      const here = redisRevocation(a, { cacheMs: 0 });
      const there = redisRevocation(b, { cacheMs: 0 });
      const id = newId();
      const t = nowSeconds();
      await here.revokeAllBefore(new Date(t * 1000));
      assert.equal(await there.isRevoked(id, t - 1), true, "issued before: refused everywhere");
      assert.equal(await there.isRevoked(id, t), true, "issued at the cut-off: refused");
      assert.equal(await there.isRevoked(id, t + 0.001), false, "issued just after: kept");
      await there.revokeAllBefore(new Date((t - 100) * 1000));
      assert.equal(await a.get("sealed-sessions:revoked:all-before"), String(t));
      assert.equal(await here.isRevoked(id, t - 1), true, "an earlier cut-off changed nothing");
      assert.deepEqual(await a.keys("*"), ["sealed-sessions:revoked:all-before"]);
    }),
});

Deno.test({
  name: `redisRevocation: a logout here wins over a read already in flight${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a) => {
      // A client whose MGET replies are held back until released: the read is answered by
      // Redis before the revocation is written, and delivered after it.
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      const slow: RedisClientLike = {
        async call(command: string, ...args: string[]) {
          const reply = await a.call(command, ...args);
          if (command === "MGET") await held;
          return reply;
        },
      };
      const revocation = redisRevocation(slow, { cacheMs: 60_000 });
      const id = newId();
      const issued = nowSeconds();
      const inFlight = revocation.isRevoked(id, issued);
      await sleep(50);
      await revocation.revoke(id, issued + 3600);
      release();
      assert.equal(await inFlight, true, "the stale read does not hide the logout");
      assert.equal(await revocation.isRevoked(id, issued), true, "nor is it cached");
    }),
});

Deno.test({
  name: `redisRevocation: a full cache does not drop a logout a read in flight must see${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a) => {
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      let first = true;
      const slow: RedisClientLike = {
        async call(command: string, ...args: string[]) {
          const hold = command === "MGET" && first;
          if (hold) first = false;
          const reply = await a.call(command, ...args);
          if (hold) await held;
          return reply;
        },
      };
      const revocation = redisRevocation(slow, { cacheMs: 60_000, cacheSize: 1 });
      const id = newId();
      const issued = nowSeconds();
      const inFlight = revocation.isRevoked(id, issued);
      await sleep(50);
      await revocation.revoke(id, issued + 3600);
      // Another session's answer fills the one-entry cache meanwhile.
      assert.equal(await revocation.isRevoked(newId(), issued), false);
      release();
      assert.equal(await inFlight, true);
    }),
});

Deno.test({
  name: `redisStore keeps data with the session's remaining lifetime as TTL${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a, b) => {
      const here = redisStore(a);
      const there = redisStore(b);
      const id = newId();
      const body = JSON.stringify({ name: "Zoë 🎉", lastname: "Lovelace" });
      const saved = await here.save(id, body, nowSeconds() + 600);
      assert.deepEqual(await there.load(id), saved, "another instance reads it");
      const key = `sealed-sessions:data:${hexOf(id)}`;
      assert.deepEqual(await a.keys("*"), [key]);
      const pttl = await a.pttl(key);
      assert.ok(pttl > 595_000 && pttl <= 600_000, `PTTL ${pttl}`);
      await there.delete(id);
      assert.equal(await here.load(id), undefined);
      assert.equal(await a.exists(key), 0);

      const brief = newId();
      await here.save(brief, "{}", Date.now() / 1000 + 1);
      assert.ok((await a.pttl(`sealed-sessions:data:${hexOf(brief)}`)) <= 1000);
      await sleep(1200);
      assert.equal(await here.load(brief), undefined, "gone after expiry");
      assert.deepEqual(await a.keys("*"), [], "nothing left behind");
    }),
});

Deno.test({
  name: `redisStore lets one of two concurrent writers win, the other gets a conflict${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a, b) => {
      const here = redisStore(a);
      const there = redisStore(b);
      const id = newId();
      const expiresAt = nowSeconds() + 600;
      await here.save(id, '{"n":0}', expiresAt);
      const [loadedHere, loadedThere] = await Promise.all([here.load(id), there.load(id)]);
      const results = await Promise.allSettled([
        here.save(id, '{"n":1}', expiresAt, loadedHere),
        there.save(id, '{"n":2}', expiresAt, loadedThere),
      ]);
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      assert.equal(won.length, 1);
      assert.equal(lost.length, 1);
      assert.equal((lost[0] as PromiseRejectedResult).reason.code, "ERR_SESSION_CONFLICT");
      const winner = (won[0] as PromiseFulfilledResult<{ body: string }>).value.body;
      assert.equal((await here.load(id))?.body, winner, "the winner's data is kept");

      // A "new" session whose id already exists, and a save after a delete, conflict too.
      await assert.rejects(here.save(id, "{}", expiresAt), { code: "ERR_SESSION_CONFLICT" });
      const stale = await here.load(id);
      await there.delete(id);
      await there.save(id, '{"n":3}', expiresAt);
      await assert.rejects(here.save(id, "{}", expiresAt, stale), {
        code: "ERR_SESSION_CONFLICT",
      });
    }),
});

Deno.test({
  name: `redisStore refuses a body over maxBytes with a clear error and keeps the old one${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a) => {
      const store = redisStore(a);
      const id = newId();
      const expiresAt = nowSeconds() + 600;
      const first = await store.save(id, '{"a":1}', expiresAt);
      const big = JSON.stringify({ text: "é".repeat(40_000) });
      await assert.rejects(store.save(id, big, expiresAt, first), (error: Error) => {
        assert.equal((error as { code?: string }).code, "ERR_SESSION_TOO_LARGE");
        assert.match(error.message, /80\d{3} bytes in Redis.*limit of 65472 bytes.*maxBytes/);
        return true;
      });
      assert.deepEqual(await store.load(id), first);
      const roomy = redisStore(a, { maxBytes: 200_000 });
      await roomy.save(id, big, expiresAt, first);
      assert.equal((await roomy.load(id))?.body, big);
    }),
});

Deno.test({
  name: `the Redis layers answer ERR_SESSION_STORE_UNAVAILABLE while Redis is down${needs}`,
  ignore,
  fn: () =>
    withRedis(async (redis, a) => {
      const revocation = redisRevocation(a, { cacheMs: 0, timeoutMs: 500 });
      const store = redisStore(a, { timeoutMs: 500 });
      const id = newId();
      const saved = await store.save(id, '{"kept":true}', nowSeconds() + 600);

      // Frozen: the connection stays open and nothing answers; the timeout ends the wait.
      redis.pause();
      try {
        await assert.rejects(revocation.isRevoked(id, nowSeconds()), {
          code: "ERR_SESSION_STORE_UNAVAILABLE",
        });
        await assert.rejects(store.load(id), { code: "ERR_SESSION_STORE_UNAVAILABLE" });
      } finally {
        redis.resume();
      }
      assert.deepEqual(await store.load(id), saved, "nothing lost");

      // Stopped: the client fails at once, then reconnects by itself.
      await redis.stop();
      await assert.rejects(store.load(id), { code: "ERR_SESSION_STORE_UNAVAILABLE" });
      await redis.start();
      await ready(a);
      assert.equal(await revocation.isRevoked(id, nowSeconds()), false);
    }),
});

Deno.test({
  name: `session() with failOpen goes on unchecked while Redis is down, else answers 503${needs}`,
  ignore,
  fn: () =>
    withRedis(async (redis, a) => {
      const make = (failOpen: boolean) => {
        const app = new Hono<SessionEnv<{ name: string }>>();
        app.use(session({
          secrets: ["redis failOpen test secret, 32 bytes or more"],
          revocation: redisRevocation(a, { cacheMs: 0 }),
          failOpen,
        }));
        app.post("/", (c) => (c.get("session").set("name", "Ada"), c.text("ok")));
        app.get("/", (c) => c.text(c.get("session").get("name") ?? "nobody"));
        app.onError((error, c) => c.text(String((error as { code?: string }).code), 503));
        return app;
      };
      const open = make(true);
      const closed = make(false);
      const cookie = cookieOf(await open.request("/", { method: "POST" }));
      await redis.stop();
      const unchecked = await open.request("/", { headers: { cookie } });
      assert.equal(await unchecked.text(), "Ada");
      const refused = await closed.request("/", { headers: { cookie } });
      assert.equal(refused.status, 503);
      assert.equal(await refused.text(), "ERR_SESSION_STORE_UNAVAILABLE");
      await redis.start();
      await ready(a);
      assert.equal(await (await closed.request("/", { headers: { cookie } })).text(), "Ada");
    }),
});

Deno.test({
  name: `the Redis layers work with a node-redis client as well as ioredis${needs}`,
  ignore,
  fn: async () => {
    const redis = await startRedis();
    const client = createClient({ url: redis.url });
    client.on("error", () => {});
    try {
      await client.connect();
      const id = newId();
      const store = redisStore(client);
      const saved = await store.save(id, '{"via":"node-redis"}', nowSeconds() + 60);
      assert.deepEqual(await store.load(id), saved);
      const revocation = redisRevocation(client);
      await revocation.revoke(id, nowSeconds() + 60);
      assert.equal(await revocation.isRevoked(id, nowSeconds()), true);
    } finally {
      await client.close().catch(() => {});
      await redis.stop();
    }
  },
});

Deno.test("redisRevocation and redisStore reject a value that is not a Redis client", () => {
  assert.throws(() => redisStore({} as RedisClientLike), { code: "ERR_SESSION_CONFIG" });
  assert.throws(
    () => redisRevocation({ call: () => Promise.resolve(null) }, { timeoutMs: 0 }),
    /timeoutMs/,
  );
});

Deno.test("a Redis command that never answers fails after timeoutMs", async () => {
  const silent: RedisClientLike = { sendCommand: () => new Promise(() => {}) };
  const store = redisStore(silent, { timeoutMs: 100 });
  await assert.rejects(store.load(newId()), (error: Error) => {
    assert.equal((error as { code?: string }).code, "ERR_SESSION_STORE_UNAVAILABLE");
    assert.match(error.message, /Redis did not answer/);
    return true;
  });
});

Deno.test("redisRevocation refuses to guess from an MGET reply that is not two values", async () => {
  for (const reply of ["OK", null, ["only one"], 3]) {
    const client = { sendCommand: () => Promise.resolve(reply) };
    const revocation = redisRevocation(client, { cacheMs: 0 });
    await assert.rejects(
      revocation.isRevoked(crypto.getRandomValues(new Uint8Array(16)), 1_700_000_000),
      { code: "ERR_SESSION_STORE_UNAVAILABLE", message: /Redis did not answer/ },
      JSON.stringify(reply),
    );
  }
});

Deno.test({
  name: `redisRevocation.revokeSubject keeps one key per subject, expiring maxAge after it${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a) => {
      const here = redisRevocation(a, { cacheMs: 0, maxAge: 3600 });
      const before = new Date();
      await here.revokeSubject("user-42", before);
      await here.revokeSubject("user-42", new Date(before.getTime() - 5000));
      assert.deepEqual(await a.keys("*"), ["sealed-sessions:revoked:subject:user-42"]);
      assert.equal(
        await a.get("sealed-sessions:revoked:subject:user-42"),
        String(before.getTime() / 1000),
        "an earlier instant does not move it back",
      );
      const ttl = await a.pttl("sealed-sessions:revoked:subject:user-42");
      assert.ok(ttl > 3_600_000 && ttl <= 3_600_000 + 60_000, `TTL ${ttl} ms`);
      const issued = before.getTime() / 1000;
      assert.equal(await here.isRevoked(newId(), issued, "user-42"), true, "issued at the cut-off");
      assert.equal(await here.isRevoked(newId(), issued + 0.001, "user-42"), false, "just after");
      assert.equal(await here.isRevoked(newId(), issued - 10, "user-7"), false, "another subject");
    }),
});

Deno.test("redisRevocation checks a session of a subject in one MGET: id, everyone's and its cut-off", async () => {
  const sent: string[][] = [];
  const client = {
    sendCommand: (args: string[]) => {
      sent.push(args);
      return Promise.resolve(args.slice(1).map(() => null));
    },
  };
  const revocation = redisRevocation(client, { cacheMs: 60_000 });
  const id = newId();
  assert.equal(await revocation.isRevoked(id, 1_700_000_000, "user-42"), false);
  assert.equal(await revocation.isRevoked(id, 1_700_000_000, "user-42"), false, "cached");
  assert.deepEqual(sent, [[
    "MGET",
    `sealed-sessions:revoked:id:${hexOf(id)}`,
    "sealed-sessions:revoked:all-before",
    "sealed-sessions:revoked:subject:user-42",
  ]]);
});
