import assert from "node:assert/strict";
import { Hono } from "hono";
import { InvalidSessionError, session, type SessionEnv } from "../lib/mod.ts";
import { OpenCache } from "../lib/session/open_cache.ts";
import { createSealer, type OpenedRecord, type Sealer } from "../lib/session/seal.ts";

const SECRET = "open cache test secret, 32 bytes or more";
const NOW = 1_700_000_000;

/** A sealer whose opens are counted: an open that reaches it is a cache miss. */
function counted(sealer: Sealer): { sealer: Sealer; opens: () => number } {
  let opens = 0;
  const spy = Object.create(sealer, { sync: { get: () => sealer.sync } }) as Sealer;
  spy.seal = sealer.seal.bind(sealer);
  spy.open = (...args: Parameters<Sealer["open"]>) => (opens++, sealer.open(...args));
  return { sealer: spy, opens: () => opens };
}

async function seal(sealer: Sealer, data: Record<string, unknown>): Promise<string> {
  return await sealer.seal({
    id: crypto.getRandomValues(new Uint8Array(16)),
    issuedAt: NOW,
    expiresAt: NOW + 60,
    idleExpiresAt: 0,
    data,
  }, "session");
}

/** What OpenCache.open() answers, checked to be at once over node:crypto. */
function answered(backend: "node" | "webcrypto", answer: OpenedRecord | Promise<OpenedRecord>) {
  if (backend === "node") assert.ok(!(answer instanceof Promise), "node:crypto answers at once");
  return Promise.resolve(answer);
}

for (const backend of ["node", "webcrypto"] as const) {
  const open = (cache: OpenCache, sealer: Sealer, value: string, now = NOW) =>
    answered(backend, cache.open(sealer, value, "session", now));

  Deno.test(`OpenCache (${backend}) decrypts a value on its first two opens and answers later ones from memory`, async () => {
    const { sealer, opens } = counted(await createSealer({ secrets: [SECRET], backend }));
    const cache = new OpenCache(10);
    const value = await seal(sealer, { name: "Ada" });
    for (let i = 0; i < 5; i++) {
      const record = await open(cache, sealer, value);
      assert.equal(record.data.name, "Ada");
      record.data.name = "changed by a handler";
    }
    assert.equal(opens(), 2, "opened on first and second sight, then hits");
  });

  Deno.test(`OpenCache (${backend}) keeps a returning visitor's entry while many one-time visitors pass`, async () => {
    const { sealer, opens } = counted(await createSealer({ secrets: [SECRET], backend }));
    const cache = new OpenCache(10);
    const regular = await seal(sealer, { name: "Ada" });
    await open(cache, sealer, regular);
    await open(cache, sealer, regular);
    const before = opens();
    for (let i = 0; i < 200; i++) {
      const once = await seal(sealer, { name: `visitor ${i}` });
      assert.equal((await open(cache, sealer, once)).data.name, `visitor ${i}`);
      // Every few one-time visitors, the regular comes back and is answered from memory.
      if (i % 20 === 0) assert.equal((await open(cache, sealer, regular)).data.name, "Ada");
    }
    assert.equal(opens() - before, 200, "only the one-time visitors were decrypted");
  });

  Deno.test(`OpenCache (${backend}) refuses an expired value even when it is cached`, async () => {
    const { sealer } = counted(await createSealer({ secrets: [SECRET], backend }));
    const cache = new OpenCache(10);
    const value = await seal(sealer, { name: "Ada" });
    await open(cache, sealer, value);
    await open(cache, sealer, value);
    await assert.rejects(
      async () => await open(cache, sealer, value, NOW + 60),
      (e: unknown) => e instanceof InvalidSessionError && e.reason === "expired",
    );
  });

  Deno.test(`OpenCache (${backend}) never answers a value under another cookie name`, async () => {
    const { sealer } = counted(await createSealer({ secrets: [SECRET], backend }));
    const cache = new OpenCache(10);
    const value = await seal(sealer, { name: "Ada" });
    await open(cache, sealer, value);
    await open(cache, sealer, value);
    const other = async () => await cache.open(sealer, value, "other", NOW);
    await assert.rejects(other, (e: unknown) => e instanceof InvalidSessionError);
  });
}

Deno.test("OpenCache (webcrypto) answers a cached value at once, without a promise", async () => {
  const { sealer } = counted(await createSealer({ secrets: [SECRET], backend: "webcrypto" }));
  const cache = new OpenCache(10);
  const value = await seal(sealer, { name: "Ada" });
  for (const sight of ["first sight", "second sight"]) {
    const opening = cache.open(sealer, value, "session", NOW);
    assert.ok(opening instanceof Promise, sight);
    await opening;
  }
  const hit = cache.open(sealer, value, "session", NOW);
  assert.ok(!(hit instanceof Promise));
  assert.equal(hit.data.name, "Ada");
});

Deno.test("OpenCache (webcrypto) refuses an expired cached value with a rejection, not a throw", async () => {
  const { sealer } = counted(await createSealer({ secrets: [SECRET], backend: "webcrypto" }));
  const cache = new OpenCache(10);
  const value = await seal(sealer, { name: "Ada" });
  await cache.open(sealer, value, "session", NOW);
  await cache.open(sealer, value, "session", NOW);
  const expired = cache.open(sealer, value, "session", NOW + 60);
  assert.ok(expired instanceof Promise);
  await assert.rejects(expired, (e: unknown) => e instanceof InvalidSessionError);
});

Deno.test("session() on the Web Crypto backend answers a repeated cookie from its cache as a fresh open would", async () => {
  let now = Date.UTC(2026, 0, 1);
  const reasons: string[] = [];
  const app = new Hono<SessionEnv<{ name: string }>>();
  app.use(session({
    secrets: [SECRET],
    backend: "webcrypto",
    maxAge: 60,
    now: () => now,
    onInvalid: (reason) => reasons.push(reason),
  }));
  app.post("/", (c) => {
    c.get("session").set("name", "Ada");
    return c.text("saved");
  });
  app.get("/", (c) => c.text(c.get("session").get("name") ?? "stranger"));
  const cookie = (await app.request("/", { method: "POST" })).headers.get("set-cookie")!
    .split(";")[0]!;
  for (let i = 0; i < 4; i++) {
    assert.equal(await (await app.request("/", { headers: { cookie } })).text(), "Ada");
  }
  now += 61_000;
  assert.equal(await (await app.request("/", { headers: { cookie } })).text(), "stranger");
  assert.deepEqual(reasons, ["expired"]);
});
