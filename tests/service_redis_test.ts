/**
 * The greeting service with Redis (`SESSION_REDIS_URL`, `SESSION_STORE=redis`), as real
 * processes sharing one real `redis-server` on a loopback port: logout across instances, the
 * store across instances, TTLs, concurrent writers, Redis going away and coming back, and the
 * configurations refused at start-up.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { loadConfig } from "../routes/config.ts";
import { CookieJar } from "./_cookie_jar.ts";
import { freePort, runMain, startServer } from "./_server.ts";
import { HAS_REDIS, startRedis } from "./redis_server.ts";

const SECRET = "redis service test secret, 32 bytes or more";
const JSON_ACCEPT = { accept: "application/json" };
const ignore = !HAS_REDIS;
const needs = ignore ? " (ignored: redis-server is not installed at /usr/bin/redis-server)" : "";

async function greet(jar: CookieJar, url: string, name = "Ada"): Promise<Response> {
  return await jar.fetch(`${url}/greeting`, {
    method: "POST",
    body: new URLSearchParams({ name, lastname: "Lovelace" }),
    headers: JSON_ACCEPT,
  });
}

async function sessionData(cookie: string, url: string): Promise<unknown> {
  const res = await fetch(`${url}/session-data`, { headers: { ...JSON_ACCEPT, cookie } });
  assert.equal(res.status, 200);
  return await res.json();
}

async function status(url: string, init: RequestInit = {}): Promise<number> {
  const res = await fetch(url, init);
  await res.body?.cancel();
  return res.status;
}

function inspector(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 0 });
  client.on("error", () => {});
  return client;
}

/**
 * How long the service may take to use a Redis that is back: its back-off between attempts to
 * reconnect is 2 s at most, and a machine busy with other tests is slow.
 */
const RECONNECT_MS = 30_000;

const ADA = { name: "Ada", lastname: "Lovelace" };
const NOBODY = { name: null, lastname: null };

for (const store of [false, true]) {
  Deno.test({
    name: `SESSION_REDIS_URL${
      store ? " with SESSION_STORE=redis" : ""
    }: a copy of a logged-out cookie is refused by another instance${needs}`,
    ignore,
    fn: async () => {
      await using redis = await startRedis();
      const env = {
        SESSION_SECRET: SECRET,
        SESSION_REDIS_URL: redis.url,
        ...(store ? { SESSION_STORE: "redis" } : {}),
      };
      await using a = await startServer({ env });
      await using b = await startServer({ env });
      const jar = new CookieJar();
      const res = await greet(jar, a.url);
      assert.equal(res.status, 200);
      await res.body?.cancel();
      const stolen = jar.header;
      if (store) assert.ok(stolen.length < 200, "the cookie holds only the sealed id");
      assert.deepEqual(await sessionData(stolen, b.url), ADA);

      const logout = await jar.fetch(`${a.url}/logout`, { method: "POST" });
      assert.equal(logout.status, 204);
      await logout.body?.cancel();
      // At once on the instance that revoked it; on another once its cached answer (1 s at
      // most, docs/redis.md) is stale. In store mode the data is gone everywhere at once.
      assert.deepEqual(await sessionData(stolen, a.url), NOBODY);
      if (!store) await new Promise((r) => setTimeout(r, 1100));
      assert.deepEqual(await sessionData(stolen, b.url), NOBODY);
    },
  });
}

Deno.test({
  name: `SESSION_STORE=redis keeps one namespaced key per session, expiring with it${needs}`,
  ignore,
  fn: async () => {
    await using redis = await startRedis();
    const client = inspector(redis.url);
    try {
      const env = {
        SESSION_SECRET: SECRET,
        SESSION_REDIS_URL: redis.url,
        SESSION_STORE: "redis",
        SESSION_MAX_AGE: "120",
      };
      await using a = await startServer({ env });
      const jar = new CookieJar();
      await (await greet(jar, a.url)).body?.cancel();
      const [dataKey, ...others] = await client.keys("*");
      assert.deepEqual(others, []);
      assert.match(dataKey!, /^sealed-sessions:data:[0-9a-f]{32}$/);
      const ttl = await client.pttl(dataKey!);
      assert.ok(ttl > 115_000 && ttl <= 120_000, `data PTTL ${ttl}: the session's lifetime`);

      await (await jar.fetch(`${a.url}/logout`, { method: "POST" })).body?.cancel();
      const keys = await client.keys("*");
      assert.equal(keys.length, 1, `only the revocation record is left: ${keys}`);
      assert.equal(keys[0], dataKey!.replace(":data:", ":revoked:id:"));
      const revokedTtl = await client.pttl(keys[0]!);
      assert.ok(
        revokedTtl > 175_000 && revokedTtl <= 180_000,
        `revocation PTTL ${revokedTtl}: remaining lifetime + 60 s for clock skew`,
      );
    } finally {
      client.disconnect();
    }
  },
});

Deno.test({
  name:
    `SESSION_STORE=redis: concurrent greetings of others into one session each get a session of their own${needs}`,
  ignore,
  fn: async () => {
    await using redis = await startRedis();
    const env = { SESSION_SECRET: SECRET, SESSION_REDIS_URL: redis.url, SESSION_STORE: "redis" };
    await using a = await startServer({ env });
    await using b = await startServer({ env });
    const jar = new CookieJar();
    await (await greet(jar, a.url)).body?.cancel();
    const cookie = jar.header;

    // Twelve greetings under other names, at once, on two instances, all carrying one session
    // cookie: each is a new identity, so each starts a session of its own (the store's
    // compare-and-set, which turns a lost race into 409, is tested in tests/redis_test.ts).
    const names = Array.from({ length: 12 }, (_, i) => `Writer${i}`);
    const results = await Promise.all(names.map(async (name, i) => {
      const writer = new CookieJar();
      writer.store(cookie.split("; "));
      const res = await writer.fetch(`${i % 2 ? b.url : a.url}/greeting`, {
        method: "POST",
        body: new URLSearchParams({ name, lastname: "Lovelace" }),
        headers: JSON_ACCEPT,
      });
      await res.body?.cancel();
      return { name, status: res.status, cookie: writer.header };
    }));
    assert.deepEqual(results.map((r) => r.status), names.map(() => 200), JSON.stringify(results));
    for (const { name, cookie: own } of results) {
      assert.notEqual(own, cookie);
      assert.equal((await sessionData(own, b.url) as { name: string }).name, name);
    }
    const ids = new Set(results.map((r) => r.cookie));
    assert.equal(ids.size, names.length, "twelve sessions, none written over another");
  },
});

Deno.test({
  name: `SESSION_STORE=redis: Redis frozen then back gives 503s, then the same data${needs}`,
  ignore,
  fn: async () => {
    await using redis = await startRedis();
    const env = { SESSION_SECRET: SECRET, SESSION_REDIS_URL: redis.url, SESSION_STORE: "redis" };
    await using a = await startServer({ env });
    const jar = new CookieJar();
    await (await greet(jar, a.url)).body?.cancel();
    const cookie = jar.header;

    redis.pause();
    try {
      // Every command waits at most its timeout (1 s): the requests end, with 503.
      const started = Date.now();
      assert.equal(await status(`${a.url}/session-data`, { headers: { cookie } }), 503);
      assert.ok(Date.now() - started < 5000, "answered within the command timeout");
      assert.equal(await status(`${a.url}/healthz`), 200, "the process is alive");
    } finally {
      redis.resume();
    }
    assert.deepEqual(await sessionData(cookie, a.url), ADA);
  },
});

Deno.test({
  name: `SESSION_STORE=redis: Redis stopped and restarted gives 503s, then recovers${needs}`,
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      // Persistence on, as in production: a restart keeps the sessions.
      await using redis = await startRedis({ dir });
      const env = {
        SESSION_SECRET: SECRET,
        SESSION_REDIS_URL: redis.url,
        SESSION_STORE: "redis",
      };
      await using a = await startServer({ env });
      await using b = await startServer({ env });
      const jar = new CookieJar();
      await (await greet(jar, a.url)).body?.cancel();
      const cookie = jar.header;

      await redis.stop();
      for (const server of [a, b]) {
        assert.equal(await status(`${server.url}/session-data`, { headers: { cookie } }), 503);
        const res = await greet(new CookieJar(), server.url, "Grace");
        assert.equal(res.status, 503);
        assert.equal(res.headers.get("retry-after"), "5");
        await res.body?.cancel();
        assert.equal(await status(`${server.url}/healthz`), 200, "no crash");
      }

      await redis.start();
      for (const server of [a, b]) {
        const deadline = Date.now() + RECONNECT_MS;
        let code = 0;
        while (Date.now() < deadline) {
          code = await status(`${server.url}/session-data`, { headers: { cookie } });
          if (code === 200) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(code, 200, `recovered by itself within ${RECONNECT_MS / 1000} s`);
        assert.deepEqual(await sessionData(cookie, server.url), ADA, "no data lost");
      }
      const res = await greet(jar, b.url, "Grace");
      assert.equal(res.status, 200);
      await res.body?.cancel();
      // A new name is a new identity: a session of its own, written and read back.
      assert.deepEqual(await sessionData(jar.header, a.url), { ...ADA, name: "Grace" });
      assert.match(a.stderr(), /redis: connection to redis:\/\/127\.0\.0\.1:\d+ lost/);
      assert.equal(a.stderr().match(/redis: connected to/g)?.length, 2, "and back");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    `SESSION_REDIS_URL: the service starts while Redis is unreachable and uses it once up${needs}`,
  ignore,
  fn: async () => {
    // Nothing listens on the port until Redis starts, and the service keeps connecting to it
    // meanwhile: a port of freePort() is one the kernel never gives such a client as its own.
    const port = freePort();
    const env = {
      SESSION_SECRET: SECRET,
      SESSION_REDIS_URL: `redis://127.0.0.1:${port}`,
      SESSION_STORE: "redis",
    };
    await using a = await startServer({ env });
    const refused = await greet(new CookieJar(), a.url);
    assert.equal(refused.status, 503);
    await refused.body?.cancel();

    await using _redis = await startRedis({ port });
    const deadline = Date.now() + RECONNECT_MS;
    const jar = new CookieJar();
    let code = 0;
    while (Date.now() < deadline) {
      const res = await greet(jar, a.url);
      code = res.status;
      await res.body?.cancel();
      if (code === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(code, 200, `used Redis within ${RECONNECT_MS / 1000} s of its start`);
    assert.deepEqual(await sessionData(jar.header, a.url), ADA);
  },
});

Deno.test({
  name: `SESSION_REDIS_URL: on SIGTERM the Redis connection is closed before the exit${needs}`,
  ignore,
  fn: async () => {
    await using redis = await startRedis();
    const env = { SESSION_SECRET: SECRET, SESSION_REDIS_URL: redis.url, SESSION_STORE: "redis" };
    const a = await startServer({ env });
    try {
      await (await greet(new CookieJar(), a.url)).body?.cancel();
      Deno.kill(a.pid, "SIGTERM");
      const { code } = await a.exited;
      assert.equal(code, 0, a.stderr());
      assert.match(a.stdout(), /Stopped on SIGTERM: drained in \d+ ms/);
      // Said goodbye (QUIT), not dropped by the exit, nor taken for an outage.
      assert.match(a.stderr(), /redis: connection to redis:\/\/127\.0\.0\.1:\d+ closed/);
      assert.doesNotMatch(a.stderr(), /lost|reconnecting/);
    } finally {
      await a.stop();
    }
  },
});

Deno.test({
  name: `SESSION_REDIS_URL: a frozen Redis does not hold up the exit on SIGTERM${needs}`,
  ignore,
  fn: async () => {
    await using redis = await startRedis();
    const env = { SESSION_SECRET: SECRET, SESSION_REDIS_URL: redis.url, SHUTDOWN_TIMEOUT: "1" };
    const a = await startServer({ env });
    redis.pause();
    try {
      const started = Date.now();
      Deno.kill(a.pid, "SIGTERM");
      const { code } = await a.exited;
      assert.equal(code, 0, a.stderr());
      // The drain (nothing in flight), the server's close, then Redis's: 1 s at most.
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 5000, `exited ${elapsed} ms after SIGTERM, Redis not answering`);
      assert.match(a.stdout(), /Stopped on SIGTERM/);
    } finally {
      redis.resume();
      await a.stop();
    }
  },
});

Deno.test("main.ts refuses a malformed SESSION_REDIS_URL with one line that hides the password", async () => {
  for (
    const url of [
      "http://:hunter2-secret@cache:6379",
      "redis//:hunter2-secret@cache",
      "redis://:hunter2-secret@cache:6379/zero",
    ]
  ) {
    const { code, stderr } = await runMain({
      env: { SESSION_SECRET: SECRET, SESSION_REDIS_URL: url },
    });
    assert.equal(code, 1, stderr);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
    assert.match(
      stderr,
      /^Cannot start: SESSION_REDIS_URL is malformed \(.+\); expected redis:\/\//,
    );
    assert.doesNotMatch(stderr, /hunter2/);
  }
});

Deno.test("main.ts refuses Redis combined wrongly with Deno KV or the store setting", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      { SESSION_KV: ":memory:", SESSION_REDIS_URL: "redis://127.0.0.1:6379" },
      /SESSION_KV and SESSION_REDIS_URL are both set/,
    ],
    [{ SESSION_STORE: "redis" }, /SESSION_STORE=redis needs SESSION_REDIS_URL/],
    [
      { SESSION_STORE: "kv", SESSION_REDIS_URL: "redis://127.0.0.1:6379" },
      /set SESSION_STORE=redis/,
    ],
  ];
  for (const [env, message] of cases) {
    const { code, stderr } = await runMain({ env: { SESSION_SECRET: SECRET, ...env } });
    assert.equal(code, 1, stderr);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
    assert.match(stderr, message);
  }
});

Deno.test("loadConfig accepts redis:// and rediss:// URLs with a password and a database", () => {
  for (
    const url of [
      "redis://127.0.0.1:6379",
      "redis://cache",
      "rediss://:s3cret@redis.internal:6380/2",
      "rediss://app:s3cret@redis.internal",
    ]
  ) {
    const config = loadConfig({ SESSION_SECRET: SECRET, SESSION_REDIS_URL: url });
    assert.equal(config.redis, url);
    assert.equal(config.store, false);
    assert.equal(config.kv, undefined);
  }
  const stored = loadConfig({
    SESSION_SECRET: SECRET,
    SESSION_REDIS_URL: "redis://cache",
    SESSION_STORE: "redis",
  });
  assert.equal(stored.store, true);
  assert.equal(loadConfig({ SESSION_SECRET: SECRET }).redis, undefined);
});

const HAS_OPENSSL = (() => {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

/** Makes a CA and a certificate for 127.0.0.1 with openssl. */
async function makeCertificates(
  dir: string,
): Promise<{ certFile: string; keyFile: string; caFile: string }> {
  const run = async (args: string[]) => {
    const { success } = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "null",
    }).output();
    if (!success) throw new Error(`openssl ${args[0]} failed`);
  };
  const days = ["-days", "2"];
  await run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key"].concat(
    ["-out", "ca.pem", ...days, "-subj", "/CN=sealed sessions test CA"],
  ));
  await run(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key"].concat(
    ["-out", "server.csr", "-subj", "/CN=127.0.0.1"],
  ));
  await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=IP:127.0.0.1\n");
  await run(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key"].concat(
    ["-CAcreateserial", "-out", "server.pem", ...days, "-extfile", "ext.cnf"],
  ));
  return { certFile: `${dir}/server.pem`, keyFile: `${dir}/server.key`, caFile: `${dir}/ca.pem` };
}

Deno.test({
  name: `SESSION_REDIS_URL: rediss:// with a password works, a wrong password fails closed${
    needs || (HAS_OPENSSL ? "" : " (ignored: openssl is not installed to make a certificate)")
  }`,
  ignore: ignore || !HAS_OPENSSL,
  fn: async (t) => {
    const dir = await Deno.makeTempDir();
    try {
      const tls = await makeCertificates(dir);
      const password = "correct-horse-battery-staple";
      await using redis = await startRedis({ tls, password });
      assert.match(redis.url, /^rediss:\/\/:correct-horse-battery-staple@127\.0\.0\.1:\d+$/);
      // The service trusts the test CA as a production host trusts its private CA.
      const base = { SESSION_SECRET: SECRET, SESSION_STORE: "redis", DENO_CERT: tls.caFile };

      await t.step("the right password: sessions are kept in Redis over TLS", async () => {
        await using a = await startServer({ env: { ...base, SESSION_REDIS_URL: redis.url } });
        const jar = new CookieJar();
        const res = await greet(jar, a.url);
        assert.equal(res.status, 200);
        await res.body?.cancel();
        assert.deepEqual(await sessionData(jar.header, a.url), ADA);
        assert.match(a.stderr(), /redis: connected to rediss:\/\/127\.0\.0\.1:\d+/);
      });

      await t.step("a wrong password: 503, and the password is never logged", async () => {
        const wrong = redis.url.replace(password, "wrong-password-123");
        await using a = await startServer({ env: { ...base, SESSION_REDIS_URL: wrong } });
        const res = await greet(new CookieJar(), a.url);
        assert.equal(res.status, 503);
        await res.body?.cancel();
        assert.doesNotMatch(a.stderr(), /wrong-password-123|correct-horse/);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
