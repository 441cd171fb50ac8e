/**
 * Each subject's list of signed-in sessions on Redis (`redisRevocation()`), against a real
 * `redis-server` on a loopback port, with two instances (two clients, each with its own list):
 * entries, their bound and expiry, the "last seen" time, ending a session by its handle, and an
 * outage.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import type { SignedInSession } from "../lib/server_side/contracts.ts";
import { type RedisClientLike, redisRevocation } from "../lib/redis/mod.ts";
import { HAS_REDIS, ready, withRedis } from "./redis_server.ts";

const ignore = !HAS_REDIS;
const needs = ignore ? " (ignored: redis-server is not installed at /usr/bin/redis-server)" : "";

const newId = () => crypto.getRandomValues(new Uint8Array(16));
const newHandle = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0"))
    .join("");
const nowSeconds = () => Date.now() / 1000;
const KEY = "sealed-sessions:revoked:sessions:";

/** An entry of a session that started `ago` seconds ago and lasts another `left`. */
function entry(ago: number, left = 3600, label?: string): SignedInSession {
  const issuedAt = Math.round((nowSeconds() - ago) * 1000) / 1000;
  return {
    id: newHandle(),
    label,
    issuedAt,
    lastSeenAt: issuedAt,
    expiresAt: Math.ceil(nowSeconds() + left),
  };
}

Deno.test({
  name: `listSessions() gives another instance a subject's sessions, newest first${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a, b) => {
      const here = redisRevocation(a);
      const there = redisRevocation(b);
      const old = entry(300, 600, "Firefox on Linux");
      const newer = entry(200, 7200, "Safari on iPhone");
      const newest = entry(100, 60);
      for (const session of [newer, newest, old]) await here.addSession("ada", session);
      await here.addSession("grace", entry(50));
      assert.deepEqual(await there.listSessions("ada"), [newest, newer, old]);
      assert.equal((await there.listSessions("grace")).length, 1, "each subject its own list");
      assert.deepEqual(await there.listSessions("nobody"), []);

      // One hash per subject, expiring a minute (skewMs) after its latest session.
      const ttl = await a.pttl(`${KEY}ada`);
      const latest = newer.expiresAt * 1000 + 60_000 - Date.now();
      assert.ok(ttl > latest - 5_000 && ttl <= latest + 5, `PTTL ${ttl}, expected ${latest}`);
    }),
});

Deno.test({
  name: `addSession() keeps the stored label when the entry's is undefined${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a) => {
      const list = redisRevocation(a);
      const first = entry(10, 600, 'Firefox on Linux — «home» "laptop" 🦊');
      await list.addSession("ada", first);
      const renewed = { ...first, label: undefined, expiresAt: first.expiresAt + 600 };
      await list.addSession("ada", renewed);
      assert.deepEqual(await list.listSessions("ada"), [{ ...renewed, label: first.label }]);
      const relabelled = { ...renewed, label: "Work laptop" };
      await list.addSession("ada", relabelled);
      assert.deepEqual(await list.listSessions("ada"), [relabelled]);

      const unlabelled = entry(5);
      await list.addSession("grace", unlabelled);
      assert.deepEqual(await list.listSessions("grace"), [unlabelled]);
    }),
});

Deno.test({
  name: `addSession() keeps maxSessions entries, dropping the oldest, whose sessions go on${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a) => {
      const list = redisRevocation(a, { maxSessions: 3, cacheMs: 0 });
      const sessions = [entry(50), entry(10), entry(40), entry(20), entry(30)];
      for (const session of sessions) await list.addSession("ada", session);
      const newest = [sessions[1]!, sessions[3]!, sessions[4]!];
      assert.deepEqual(await list.listSessions("ada"), newest);
      assert.equal(await a.hlen(`${KEY}ada`), 3, "the dropped entries are gone from Redis");
      const dropped = sessions[0]!;
      assert.equal(
        await list.isRevoked(newId(), dropped.issuedAt, "ada", dropped.id),
        false,
        "a session dropped from the list goes on",
      );
      assert.throws(() => redisRevocation(a, { maxSessions: 0 }), /maxSessions/);
      assert.throws(() => redisRevocation(a, { maxSessions: 2.5 }), /maxSessions/);
    }),
});

Deno.test({
  name: `listSessions() leaves out expired sessions, by its own clock${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a) => {
      const list = redisRevocation(a);
      const brief = entry(10, 60);
      const long = entry(20, 600);
      await list.addSession("ada", brief);
      await list.addSession("ada", long);
      const later = redisRevocation(a, { now: () => Date.now() + 120_000 });
      assert.deepEqual(await later.listSessions("ada"), [long]);
      assert.deepEqual(await list.listSessions("ada"), [brief, long], "not yet expired now");

      // The next entry recorded clears the expired ones away.
      const next = entry(0, 3600);
      await later.addSession("ada", next);
      assert.deepEqual(
        (await a.hkeys(`${KEY}ada`)).sort(),
        [`e:${long.id}`, `e:${next.id}`].sort(),
      );
    }),
});

Deno.test({
  name:
    `seenSession() writes at most once per interval per process, never bringing an entry back${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a, b) => {
      let clock = Date.now();
      let evals = 0;
      // Scripts that ran (a script Redis did not know yet is refused once, then sent whole).
      const counted = (client: Redis): RedisClientLike => ({
        call: async (command: string, ...args: string[]) => {
          const reply = await client.call(command, ...args);
          if (command === "EVAL" || command === "EVALSHA") evals++;
          return reply;
        },
      });
      const options = { now: () => clock, seenIntervalMs: 60_000 };
      const here = redisRevocation(counted(a), options);
      const there = redisRevocation(counted(b), options);
      const session = entry(100);
      await here.addSession("ada", session);
      evals = 0;

      // The login wrote it down here: uses within the interval write nothing.
      for (let i = 0; i < 5; i++) await here.seenSession("ada", session.id, session.expiresAt);
      assert.equal(evals, 0, "no write for five uses right after the login");
      await there.seenSession("ada", session.id, session.expiresAt);
      assert.equal(evals, 1, "another process writes its own");
      const [seen] = await here.listSessions("ada");
      assert.equal(seen?.lastSeenAt, clock / 1000);
      evals = 0;

      clock += 30_000;
      await here.seenSession("ada", session.id, session.expiresAt);
      assert.equal(evals, 0, "not due yet here");
      clock += 30_000;
      await here.seenSession("ada", session.id, session.expiresAt);
      assert.equal(evals, 1, "due again after the interval");
      assert.equal((await there.listSessions("ada"))[0]?.lastSeenAt, clock / 1000);

      // An entry that is gone stays gone.
      await here.removeSession("ada", session.id);
      clock += 60_000;
      await here.seenSession("ada", session.id, session.expiresAt);
      assert.equal(await a.exists(`${KEY}ada`), 0);
      assert.throws(() => redisRevocation(a, { seenIntervalMs: -1 }), /seenIntervalMs/);
    }),
});

Deno.test({
  name: `endSession() ends a session once, on every instance, and never another subject's${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a, b) => {
      const here = redisRevocation(a);
      const there = redisRevocation(b, { cacheMs: 0 });
      const session = entry(100, 600);
      const id = newId();
      await here.addSession("ada", session);
      await here.addSession("grace", entry(50));
      const check = (list: typeof here, sessionId = id) =>
        list.isRevoked(sessionId, session.issuedAt, "ada", session.id);
      assert.equal(await check(here), false);
      assert.equal(await check(there), false);

      // Grace cannot end Ada's session by its handle.
      assert.equal(await here.endSession("grace", session.id), false);
      assert.equal(await check(there), false);
      assert.equal((await there.listSessions("ada")).length, 1);

      assert.equal(await here.endSession("ada", session.id), true);
      assert.equal(await here.endSession("ada", session.id), false, "ended already");
      assert.equal(await check(here), true, "refused at once here, over the cached answer");
      assert.equal(await check(there), true, "and by the other instance");
      assert.equal(await check(there, newId()), true, "whatever id carries the handle");
      assert.deepEqual(await there.listSessions("ada"), []);

      const key = `sealed-sessions:revoked:handle:${session.id}`;
      assert.equal(await a.get(key), String(session.expiresAt));
      const ttl = await a.pttl(key);
      const left = session.expiresAt * 1000 + 60_000 - Date.now();
      assert.ok(ttl > left - 5_000 && ttl <= left + 5, `PTTL ${ttl}, expected ${left}`);
    }),
});

Deno.test({
  name: `removeSession() removes an entry and its seen time, and nothing else${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a) => {
      const list = redisRevocation(a, { cacheMs: 0 });
      const gone = entry(20);
      const kept = entry(10);
      await list.addSession("ada", gone);
      await list.addSession("ada", kept);
      await list.seenSession("ada", gone.id, gone.expiresAt);
      await list.removeSession("ada", gone.id);
      assert.deepEqual(await a.hkeys(`${KEY}ada`), [`e:${kept.id}`]);
      assert.deepEqual(await list.listSessions("ada"), [kept]);
      assert.equal(await list.isRevoked(newId(), gone.issuedAt, "ada", gone.id), false);
    }),
});

Deno.test({
  name: `cut-offs hide the sessions they refuse, and revokeSubject() removes their entries${needs}`,
  ignore,
  fn: () =>
    withRedis(async (_redis, a, b) => {
      const here = redisRevocation(a);
      const there = redisRevocation(b);
      const old = entry(300);
      const recent = entry(100);
      await here.addSession("ada", old);
      await here.addSession("ada", recent);
      await here.addSession("grace", entry(400));

      await here.revokeAllBefore(new Date(old.issuedAt * 1000));
      assert.deepEqual(await there.listSessions("ada"), [recent], "started at the cut-off: hidden");
      assert.equal((await there.listSessions("grace")).length, 0);

      await here.revokeSubject("ada", new Date((recent.issuedAt + 1) * 1000));
      assert.deepEqual(await there.listSessions("ada"), []);
      assert.equal(await a.exists(`${KEY}ada`), 0, "the entries are removed");
      const after = entry(0);
      await here.addSession("ada", after);
      assert.deepEqual(await there.listSessions("ada"), [after], "a later login is listed");
    }),
});

Deno.test({
  name: `the lists and ended sessions survive a restart of Redis with an append-only file${needs}`,
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await withRedis(async (redis, a) => {
        const list = redisRevocation(a);
        const kept = entry(100, 600, "Firefox");
        const ended = entry(50, 600);
        await list.addSession("ada", kept);
        await list.addSession("ada", ended);
        await list.endSession("ada", ended.id);
        await redis.stop();
        await redis.start();
        await ready(a);
        const fresh = redisRevocation(a, { cacheMs: 0 });
        assert.deepEqual(await fresh.listSessions("ada"), [kept]);
        assert.equal(await fresh.isRevoked(newId(), ended.issuedAt, "ada", ended.id), true);
      }, { dir });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: `the list's calls answer ERR_SESSION_STORE_UNAVAILABLE while Redis is down${needs}`,
  ignore,
  fn: () =>
    withRedis(async (redis, a) => {
      // seenIntervalMs 0: every use is written, so that the outage shows on it too.
      const list = redisRevocation(a, { cacheMs: 0, timeoutMs: 500, seenIntervalMs: 0 });
      const session = entry(10);
      await list.addSession("ada", session);
      await redis.stop();
      const unavailable = { code: "ERR_SESSION_STORE_UNAVAILABLE" };
      await assert.rejects(list.addSession("ada", entry(0)), unavailable);
      await assert.rejects(list.listSessions("ada"), unavailable);
      await assert.rejects(list.seenSession("ada", session.id, session.expiresAt), unavailable);
      await assert.rejects(list.endSession("ada", session.id), unavailable);
      await assert.rejects(list.removeSession("ada", session.id), unavailable);
      await assert.rejects(
        list.isRevoked(newId(), session.issuedAt, "ada", session.id),
        unavailable,
      );
      await redis.start();
      await ready(a);
      await list.addSession("ada", session);
      assert.deepEqual(await list.listSessions("ada"), [session], "working again");
    }),
});

Deno.test("isRevoked() reads whether a session's handle was ended in the same MGET", async () => {
  const sent: string[][] = [];
  const client = {
    sendCommand: (args: string[]) => {
      sent.push(args);
      return Promise.resolve(args.slice(1).map((key) => key.includes(":handle:") ? "1" : null));
    },
  };
  const revocation = redisRevocation(client, { cacheMs: 60_000 });
  assert.equal(await revocation.isRevoked(newId(), 1_700_000_000, "ada", "0123456789abcdef"), true);
  assert.equal(
    await revocation.isRevoked(newId(), 1_700_000_000, undefined, "fedcba9876543210"),
    true,
  );
  assert.equal(await revocation.isRevoked(newId(), 1_700_000_000, "ada"), false);
  assert.deepEqual(sent.map((args) => args.slice(2)), [
    [
      "sealed-sessions:revoked:all-before",
      "sealed-sessions:revoked:subject:ada",
      "sealed-sessions:revoked:handle:0123456789abcdef",
    ],
    ["sealed-sessions:revoked:all-before", "sealed-sessions:revoked:handle:fedcba9876543210"],
    ["sealed-sessions:revoked:all-before", "sealed-sessions:revoked:subject:ada"],
  ]);
});
