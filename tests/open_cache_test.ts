/**
 * The open cache inside a sealer: a value is decrypted on its first two opens and answered from
 * memory afterwards, exactly as a fresh open would answer (deadlines, cookie name), over both
 * backends.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { InvalidSessionError, session, type SessionEnv } from "../lib/mod.ts";
import { deriveKeyring } from "../lib/sealing/keys.ts";
import { Sealer } from "../lib/sealing/sealer.ts";
import type { XaesKeySet } from "../lib/cipher/key_set.ts";

const SECRET = "open cache test secret, 32 bytes or more";
const NOW = 1_700_000_000;

/** A caching sealer whose decryptions are counted: one that reaches the cipher is a miss. */
async function counted(
  backend: "node" | "webcrypto",
  size = 10,
): Promise<{ sealer: Sealer; opens: () => number }> {
  const ring = await deriveKeyring([SECRET], backend);
  let opens = 0;
  const keys: XaesKeySet = {
    sync: ring.keys.sync,
    keys: ring.keys.keys.map((key) => ({
      sync: key.sync,
      seal: (...args: Parameters<typeof key.seal>) => key.seal(...args),
      open: (...args: Parameters<typeof key.open>) => (opens++, key.open(...args)),
    })),
    firstUse: undefined,
  };
  return { sealer: new Sealer({ ...ring, keys }, size), opens: () => opens };
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

for (const backend of ["node", "webcrypto"] as const) {
  Deno.test(`a caching sealer (${backend}) decrypts a value on its first two opens and answers later ones from memory`, async () => {
    const { sealer, opens } = await counted(backend);
    const value = await seal(sealer, { name: "Ada" });
    for (let i = 0; i < 5; i++) {
      const record = await sealer.open(value, "session", NOW);
      assert.equal(record.data.name, "Ada");
      record.data.name = "changed by a handler";
    }
    assert.equal(opens(), 2, "opened on first and second sight, then hits");
  });

  Deno.test(`a caching sealer (${backend}) keeps a returning visitor's entry while many one-time visitors pass`, async () => {
    const { sealer, opens } = await counted(backend);
    const regular = await seal(sealer, { name: "Ada" });
    await sealer.open(regular, "session", NOW);
    await sealer.open(regular, "session", NOW);
    const before = opens();
    for (let i = 0; i < 200; i++) {
      const once = await seal(sealer, { name: `visitor ${i}` });
      assert.equal((await sealer.open(once, "session", NOW)).data.name, `visitor ${i}`);
      // Every few one-time visitors, the regular comes back and is answered from memory.
      if (i % 20 === 0) {
        assert.equal((await sealer.open(regular, "session", NOW)).data.name, "Ada");
      }
    }
    assert.equal(opens() - before, 200, "only the one-time visitors were decrypted");
  });

  Deno.test(`a caching sealer (${backend}) refuses an expired value even when it is cached`, async () => {
    const { sealer, opens } = await counted(backend);
    const value = await seal(sealer, { name: "Ada" });
    await sealer.open(value, "session", NOW);
    await sealer.open(value, "session", NOW);
    await assert.rejects(
      sealer.open(value, "session", NOW + 60),
      (e: unknown) => e instanceof InvalidSessionError && e.reason === "expired",
    );
    assert.equal(opens(), 2, "refused from memory");
  });

  Deno.test(`a caching sealer (${backend}) never answers a value under another cookie name`, async () => {
    const { sealer } = await counted(backend);
    const value = await seal(sealer, { name: "Ada" });
    await sealer.open(value, "session", NOW);
    await sealer.open(value, "session", NOW);
    await assert.rejects(
      sealer.open(value, "other", NOW),
      (e: unknown) => e instanceof InvalidSessionError,
    );
  });
}

Deno.test("a caching sealer over node:crypto answers from memory at once, with openNow()", async () => {
  const { sealer, opens } = await counted("node");
  const value = await seal(sealer, { name: "Ada" });
  for (let i = 0; i < 3; i++) assert.equal(sealer.openNow(value, "session", NOW).data.name, "Ada");
  assert.equal(opens(), 2);
  assert.throws(() => sealer.openNow(value, "session", NOW + 60), InvalidSessionError);
});

Deno.test("a sealer without a cache decrypts every open", async () => {
  const { sealer, opens } = await counted("node", 0);
  const value = await seal(sealer, { name: "Ada" });
  for (let i = 0; i < 3; i++) await sealer.open(value, "session", NOW);
  assert.equal(opens(), 3);
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
