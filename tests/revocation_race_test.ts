/**
 * `kvRevocation`: a revocation made on this instance holds even against a KV read that was
 * already in flight when it was made (reads here take 50 ms, as a distant KV region might).
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { session, type SessionEnv } from "../lib/mod.ts";
import { kvRevocation } from "../lib/kv/mod.ts";

const SECRET = "revocation race test secret, 32+ bytes long";
const READ_DELAY_MS = 50;

/** A Deno KV whose answers take {@linkcode READ_DELAY_MS} while `slow` is set; writes are prompt. */
function slowKv(kv: Deno.Kv): { kv: Deno.Kv; slow: { on: boolean } } {
  const slow = { on: true };
  const delay = () => slow.on ? READ_DELAY_MS : 0;
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const wrapper = {
    getMany: async (keys: Deno.KvKey[], options?: { consistency?: Deno.KvConsistencyLevel }) => {
      // The answer is read at once and arrives late, as from a distant region.
      const ms = delay();
      const answer = await kv.getMany(keys, options);
      await wait(ms);
      return answer;
    },
    get: async (key: Deno.KvKey, options?: { consistency?: Deno.KvConsistencyLevel }) => {
      const ms = delay();
      const answer = await kv.get(key, options);
      await wait(ms);
      return answer;
    },
    set: (key: Deno.KvKey, value: unknown, options?: { expireIn?: number }) =>
      kv.set(key, value, options),
    atomic: () => kv.atomic(),
  };
  return { kv: wrapper as unknown as Deno.Kv, slow };
}

function sessionCookie(res: Response): string {
  return res.headers.getSetCookie()[0]!.split(";")[0]!;
}

Deno.test("kvRevocation keeps a logout made while an older read was in flight", async () => {
  using kv = await Deno.openKv(":memory:");
  const { kv: slowed, slow } = slowKv(kv);
  // A long cache: a wrong "not revoked" would be believed for a minute.
  const revocation = kvRevocation(slowed, { cacheMs: 60_000 });
  const app = new Hono<SessionEnv<{ name: string }>>();
  app.use(session<{ name: string }>({ secrets: [SECRET], revocation }));
  app.post("/login", (c) => {
    c.get("session").set("name", "Ada");
    return c.text("ok");
  });
  app.get("/", (c) => c.text(c.get("session").get("name") ?? "nobody"));
  app.post("/logout", (c) => {
    c.get("session").destroy();
    return c.body(null, 204);
  });

  const cookie = sessionCookie(await app.request("/login", { method: "POST" }));
  // A request with the cookie starts a slow KV read…
  const inFlight = app.request("/", { headers: { cookie } });
  // …and while it is out, the visitor logs out on this instance (this read is quick).
  slow.on = false;
  const logout = await app.request("/logout", { method: "POST", headers: { cookie } });
  assert.equal(logout.status, 204);
  // The older read answers "not revoked" for its own request, which began before the logout.
  await (await inFlight).text();

  // A copy of the cookie is refused from now on, not for the next cacheMs only after.
  const replay = await app.request("/", { headers: { cookie } });
  assert.equal(await replay.text(), "nobody");
});

Deno.test("kvRevocation keeps a revokeAllBefore cut-off made while an older read was in flight", async () => {
  using kv = await Deno.openKv(":memory:");
  const { kv: slowed, slow } = slowKv(kv);
  const revocation = kvRevocation(slowed, { cacheMs: 60_000 });
  const id = crypto.getRandomValues(new Uint8Array(16));
  const issuedAt = Math.floor(Date.now() / 1000) - 10;

  const inFlight = revocation.isRevoked(id, issuedAt);
  slow.on = false;
  await revocation.revokeAllBefore(new Date());
  assert.equal(await revocation.isRevoked(id, issuedAt), true, "the cut-off applies at once");
  await inFlight;
  assert.equal(
    await revocation.isRevoked(id, issuedAt),
    true,
    "the older read did not move the cut-off back",
  );
});

Deno.test("kvRevocation keeps a revoke() made while an older read of the same id was in flight", async () => {
  using kv = await Deno.openKv(":memory:");
  const { kv: slowed } = slowKv(kv);
  const revocation = kvRevocation(slowed, { cacheMs: 60_000 });
  const id = crypto.getRandomValues(new Uint8Array(16));
  const now = Math.floor(Date.now() / 1000);

  const inFlight = revocation.isRevoked(id, now);
  await revocation.revoke(id, now + 3600);
  await inFlight;
  assert.equal(await revocation.isRevoked(id, now), true);
});

Deno.test("kvRevocation still caches the answer of a read no local fact overtook", async () => {
  using kv = await Deno.openKv(":memory:");
  let reads = 0;
  const counting = {
    getMany: (keys: Deno.KvKey[], options?: { consistency?: Deno.KvConsistencyLevel }) => {
      reads++;
      return kv.getMany(keys, options);
    },
  } as unknown as Deno.Kv;
  const revocation = kvRevocation(counting, { cacheMs: 60_000 });
  const id = crypto.getRandomValues(new Uint8Array(16));
  const now = Math.floor(Date.now() / 1000);
  assert.equal(await revocation.isRevoked(id, now), false);
  assert.equal(await revocation.isRevoked(id, now), false);
  assert.equal(reads, 1);
});

Deno.test("kvRevocation keeps a revoke() forgotten by its size bound while an older read was in flight", async () => {
  using kv = await Deno.openKv(":memory:");
  const { kv: slowed, slow } = slowKv(kv);
  const revocation = kvRevocation(slowed, { cacheMs: 60_000, cacheSize: 1 });
  const a = crypto.getRandomValues(new Uint8Array(16));
  const b = crypto.getRandomValues(new Uint8Array(16));
  const now = Math.floor(Date.now() / 1000);

  const inFlight = revocation.isRevoked(a, now);
  slow.on = false;
  await revocation.revoke(a, now + 3600);
  // One entry only: remembering b forgets a's local revocation.
  await revocation.revoke(b, now + 3600);
  await inFlight;
  assert.equal(await revocation.isRevoked(a, now), true);
  assert.equal(await revocation.isRevoked(b, now), true);
});
