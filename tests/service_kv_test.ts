/**
 * The greeting service with Deno KV (`SESSION_KV`, `SESSION_STORE=kv`), as real processes sharing
 * one KV file: a logout on one instance holds on another, even for a copy of the cookie.
 */

import assert from "node:assert/strict";
import { CookieJar } from "./_cookie_jar.ts";
import { startServer } from "./_server.ts";

const SECRET = "kv service test secret, 32 bytes or more";
const JSON_ACCEPT = { accept: "application/json" };

async function greet(jar: CookieJar, url: string): Promise<void> {
  const res = await jar.fetch(`${url}/greeting`, {
    method: "POST",
    body: new URLSearchParams({ name: "Ada", lastname: "Lovelace" }),
    headers: JSON_ACCEPT,
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
}

async function sessionData(cookie: string, url: string): Promise<unknown> {
  const res = await fetch(`${url}/session-data`, { headers: { ...JSON_ACCEPT, cookie } });
  assert.equal(res.status, 200);
  return await res.json();
}

for (const store of [false, true]) {
  Deno.test(
    `SESSION_KV${
      store ? " with SESSION_STORE=kv" : ""
    }: a copy of a logged-out cookie is refused by another instance`,
    async () => {
      const dir = await Deno.makeTempDir();
      const env = {
        SESSION_SECRET: SECRET,
        SESSION_KV: `${dir}/sessions.sqlite`,
        ...(store ? { SESSION_STORE: "kv" } : {}),
      };
      const a = await startServer({ env, allowWrite: dir });
      try {
        const b = await startServer({ env, allowWrite: dir });
        try {
          const jar = new CookieJar();
          await greet(jar, a.url);
          const stolen = jar.header;
          if (store) assert.ok(stolen.length < 200, "the cookie holds only the sealed id");
          assert.deepEqual(await sessionData(stolen, b.url), { name: "Ada", lastname: "Lovelace" });

          const logout = await jar.fetch(`${a.url}/logout`, { method: "POST" });
          assert.equal(logout.status, 204);
          await logout.body?.cancel();
          // The copy still decrypts, but KV says it was logged out: at once on the instance
          // that revoked it, and on another once its cached answer (1 s at most) is stale.
          assert.deepEqual(await sessionData(stolen, a.url), { name: null, lastname: null });
          if (!store) await new Promise((r) => setTimeout(r, 1100));
          assert.deepEqual(await sessionData(stolen, b.url), { name: null, lastname: null });
        } finally {
          await b.stop();
        }
      } finally {
        await a.stop();
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

Deno.test("SESSION_STORE=kv: a planted session cookie does not catch the victim's greeting", async () => {
  const dir = await Deno.makeTempDir();
  const env = { SESSION_SECRET: SECRET, SESSION_KV: `${dir}/sessions.sqlite`, SESSION_STORE: "kv" };
  const server = await startServer({ env, allowWrite: dir });
  try {
    // The attacker greets as themselves and keeps the cookie…
    const attacker = new CookieJar();
    const mine = await attacker.fetch(`${server.url}/greeting`, {
      method: "POST",
      body: new URLSearchParams({ name: "Mallory", lastname: "Evil" }),
      headers: JSON_ACCEPT,
    });
    await mine.body?.cancel();
    const planted = attacker.header;
    // …and plants it in the victim's browser (a sibling subdomain, a shared computer).
    const victim = new CookieJar();
    victim.store(planted.split("; "));
    await greet(victim, server.url);
    assert.notEqual(victim.header, planted, "the greeting starts a session of its own");
    assert.deepEqual(await sessionData(victim.header, server.url), {
      name: "Ada",
      lastname: "Lovelace",
    });
    // Whoever holds the planted id never sees the victim's name.
    const seen = await sessionData(planted, server.url) as { name: string | null };
    assert.notEqual(seen.name, "Ada");
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
