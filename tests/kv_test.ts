import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Hono } from "hono";
import { cookieOf } from "./_cookie_jar.ts";
import { session, type SessionEnv, SessionError, type SessionOptions } from "../lib/mod.ts";
import { kvRevocation, kvStore } from "../lib/kv/mod.ts";

const SECRET = "kv-test-secret-kv-test-secret-kv-test-secret";
type Data = { name: string; blob: string; count: number };
const newId = () => crypto.getRandomValues(new Uint8Array(16));

/** An app whose routes exercise the session; `clock` drives time in seconds. */
function makeApp(options: Partial<SessionOptions>) {
  const app = new Hono<SessionEnv<Data>>();
  const invalid: string[] = [];
  app.use(session<Data>({ secrets: [SECRET], onInvalid: (r) => invalid.push(r), ...options }));
  app.post("/login/:name", (c) => {
    const s = c.get("session");
    s.set("name", c.req.param("name"));
    s.regenerate();
    return c.text("ok");
  });
  app.post("/blob/:size", (c) => {
    c.get("session").set("blob", "x".repeat(Number(c.req.param("size"))));
    return c.text("ok");
  });
  app.post("/count", async (c) => {
    const s = c.get("session");
    const before = s.get("count") ?? 0;
    await new Promise((r) => setTimeout(r, Number(c.req.query("delay") ?? 0)));
    s.set("count", before + 1);
    return c.text(String(before + 1));
  });
  app.get("/", (c) => c.text(c.get("session").get("name") ?? ""));
  app.post("/logout", (c) => {
    c.get("session").destroy();
    return c.body(null, 204);
  });
  app.onError((error, c) => {
    if (error instanceof SessionError) {
      const status = error.code === "ERR_SESSION_STORE_UNAVAILABLE"
        ? 503
        : error.code === "ERR_SESSION_CONFLICT"
        ? 409
        : error.code === "ERR_SESSION_TOO_LARGE"
        ? 413
        : 500;
      return c.text(error.code, status);
    }
    return c.text("error", 500);
  });
  return { app, invalid };
}

Deno.test("kvRevocation refuses a destroyed session's cookie on another instance sharing the KV file", async () => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite" });
  const kvA = await Deno.openKv(path);
  const kvB = await Deno.openKv(path);
  try {
    const a = makeApp({ revocation: kvRevocation(kvA) });
    const b = makeApp({ revocation: kvRevocation(kvB, { cacheMs: 0 }) });
    const cookie = cookieOf(await a.app.request("/login/Ada", { method: "POST" }));
    assert.equal(await (await b.app.request("/", { headers: { cookie } })).text(), "Ada");

    const logout = await a.app.request("/logout", { method: "POST", headers: { cookie } });
    assert.equal(logout.status, 204);
    assert.match(logout.headers.get("set-cookie")!, /Max-Age=0/);
    // A copy of the cookie kept by an attacker is refused everywhere.
    assert.equal(await (await b.app.request("/", { headers: { cookie } })).text(), "");
    assert.equal(await (await a.app.request("/", { headers: { cookie } })).text(), "");
    assert.deepEqual(b.invalid, ["revoked"]);
  } finally {
    kvA.close();
    kvB.close();
    await Deno.remove(path);
  }
});

Deno.test("two instances on one Deno KV file serve many visitors at once, never failing on SQLite's lock", async () => {
  // Each instance has its own handle on the file, as two processes would: SQLite then answers
  // an atomic operation with a check "database is locked" when another handle writes meanwhile.
  const path = await Deno.makeTempFile({ suffix: ".sqlite" });
  using kvA = await Deno.openKv(path);
  using kvB = await Deno.openKv(path);
  const instances = [kvA, kvB].map((kv) => {
    const { app } = makeApp({ revocation: kvRevocation(kv), store: kvStore(kv) });
    app.post("/subject/:name", (c) => {
      c.get("session").subject = c.req.param("name"); // listed: an atomic write with a check
      return c.text("ok");
    });
    return app;
  });
  const visitors = Array.from({ length: 120 }, (_, i) => `visitor-${i}`);
  const statuses = await Promise.all(visitors.map(async (name, i) => {
    const [here, there] = [instances[i % 2]!, instances[(i + 1) % 2]!];
    const login = await here.request(`/login/${name}`, { method: "POST" });
    const cookie = cookieOf(login);
    const subject = await there.request(`/subject/${name}`, {
      method: "POST",
      headers: { cookie },
    });
    const next = cookieOf(subject);
    const count = await here.request("/count", { method: "POST", headers: { cookie: next } });
    const logout = await there.request("/logout", { method: "POST", headers: { cookie: next } });
    return [login.status, subject.status, count.status, logout.status].join(" ");
  }));
  assert.deepEqual(new Set(statuses), new Set(["200 200 200 204"]));
  await Deno.remove(path);
});

Deno.test("kvRevocation caches answers for at most cacheMs, then sees another instance's revocation", async () => {
  using kv = await Deno.openKv(":memory:");
  let now = Date.now();
  const writer = kvRevocation(kv);
  const reader = kvRevocation(kv, { cacheMs: 1000, now: () => now });
  const id = newId();
  const issued = Math.floor(now / 1000);
  assert.equal(await reader.isRevoked(id, issued), false);
  await writer.revoke(id, issued + 3600);
  // Within the cache window the old answer stands: the documented staleness bound.
  now += 500;
  assert.equal(await reader.isRevoked(id, issued), false);
  now += 600;
  assert.equal(await reader.isRevoked(id, issued), true);
});

Deno.test("kvRevocation.revokeAllBefore refuses older sessions and accepts newer ones", async () => {
  using kv = await Deno.openKv(":memory:");
  let now = Date.UTC(2026, 0, 1);
  const revocation = kvRevocation(kv, { cacheMs: 0 });
  const { app, invalid } = makeApp({ revocation, now: () => now });
  const old = cookieOf(await app.request("/login/Old", { method: "POST" }));
  now += 10_000;
  await revocation.revokeAllBefore(new Date(now - 1000));
  now += 1000;
  const fresh = cookieOf(await app.request("/login/New", { method: "POST" }));
  assert.equal(await (await app.request("/", { headers: { cookie: old } })).text(), "");
  assert.equal(await (await app.request("/", { headers: { cookie: fresh } })).text(), "New");
  assert.deepEqual(invalid, ["revoked"]);
  // The cut-off never moves back.
  await revocation.revokeAllBefore(new Date(0));
  assert.equal(await (await app.request("/", { headers: { cookie: old } })).text(), "");
});

Deno.test("regenerate() with revocation revokes the pre-login session id", async () => {
  using kv = await Deno.openKv(":memory:");
  const { app } = makeApp({ revocation: kvRevocation(kv, { cacheMs: 0 }) });
  const first = cookieOf(await app.request("/login/Ada", { method: "POST" }));
  const second = cookieOf(
    await app.request("/login/Ada", { method: "POST", headers: { cookie: first } }),
  );
  assert.notEqual(first, second);
  assert.equal(await (await app.request("/", { headers: { cookie: first } })).text(), "");
  assert.equal(await (await app.request("/", { headers: { cookie: second } })).text(), "Ada");
});

Deno.test("a closed KV fails closed with a 503 and an ERR_SESSION_STORE_UNAVAILABLE error, or open when configured", async () => {
  const kv = await Deno.openKv(":memory:");
  const { app: writer } = makeApp({});
  const cookie = cookieOf(await writer.request("/login/Ada", { method: "POST" }));
  kv.close();
  const errors: unknown[] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    const closed = makeApp({ revocation: kvRevocation(kv, { cacheMs: 0 }) });
    const res = await closed.app.request("/", { headers: { cookie } });
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "ERR_SESSION_STORE_UNAVAILABLE");
    assert.equal(errors.length, 1, "the outage is logged");

    const open = makeApp({ revocation: kvRevocation(kv, { cacheMs: 0 }), failOpen: true });
    const res2 = await open.app.request("/", { headers: { cookie } });
    assert.equal(res2.status, 200);
    assert.equal(await res2.text(), "Ada");

    const storeClosed = makeApp({ store: kvStore(kv) });
    const res3 = await storeClosed.app.request("/", { headers: { cookie } });
    assert.equal(res3.status, 503);
    await res3.body?.cancel();
  } finally {
    console.error = originalError;
  }
});

Deno.test("kvStore keeps the data server-side and shares it across instances", async () => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite" });
  const kvA = await Deno.openKv(path);
  const kvB = await Deno.openKv(path);
  try {
    const a = makeApp({ store: kvStore(kvA) });
    const b = makeApp({ store: kvStore(kvB) });
    const login = await a.app.request("/login/Ada", { method: "POST" });
    const cookie = cookieOf(login);
    assert.equal(await (await b.app.request("/", { headers: { cookie } })).text(), "Ada");
    // The cookie holds only the sealed id: a 20 KB session still travels in a small cookie.
    const big = await b.app.request("/blob/20000", { method: "POST", headers: { cookie } });
    assert.equal(big.status, 200);
    assert.equal(big.headers.get("set-cookie"), null, "data changes need no new cookie");
    assert.ok(cookie.length < 200);
    const entries = await Array.fromAsync(
      kvA.list<string>({ prefix: ["sealed-sessions", "data"] }),
    );
    assert.equal(entries.length, 1);
    assert.match(entries[0]!.value, /"blob":"x{20000}"/);
    // Logout deletes the entry.
    await a.app.request("/logout", { method: "POST", headers: { cookie } });
    const after = await Array.fromAsync(kvA.list({ prefix: ["sealed-sessions", "data"] }));
    assert.equal(after.length, 0);
    assert.equal(await (await b.app.request("/", { headers: { cookie } })).text(), "");
  } finally {
    kvA.close();
    kvB.close();
    await Deno.remove(path);
  }
});

Deno.test("kvStore refuses data over the 64 KiB KV limit with a typed error and keeps the stored session", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = kvStore(kv);
  const { app } = makeApp({ store });
  const cookie = cookieOf(await app.request("/login/Ada", { method: "POST" }));
  const res = await app.request("/blob/70000", { method: "POST", headers: { cookie } });
  assert.equal(res.status, 413);
  assert.equal(await res.text(), "ERR_SESSION_TOO_LARGE");
  assert.equal(await (await app.request("/", { headers: { cookie } })).text(), "Ada");
  const id = newId();
  await assert.rejects(
    store.save(id, "x".repeat(70_000), Date.now() / 1000 + 60),
    (e: unknown) => e instanceof SessionError && e.code === "ERR_SESSION_TOO_LARGE",
  );
});

Deno.test("kvStore regenerate() moves the data to a new id and deletes the old entry", async () => {
  using kv = await Deno.openKv(":memory:");
  const { app } = makeApp({ store: kvStore(kv) });
  const first = cookieOf(await app.request("/login/Ada", { method: "POST" }));
  const keysBefore = (await Array.fromAsync(kv.list({ prefix: ["sealed-sessions", "data"] })))
    .map((e) => e.key.at(-1));
  const second = cookieOf(
    await app.request("/login/Ada", { method: "POST", headers: { cookie: first } }),
  );
  const keysAfter = (await Array.fromAsync(kv.list({ prefix: ["sealed-sessions", "data"] })))
    .map((e) => e.key.at(-1));
  assert.equal(keysBefore.length, 1);
  assert.equal(keysAfter.length, 1);
  assert.notEqual(keysBefore[0], keysAfter[0]);
  assert.equal(await (await app.request("/", { headers: { cookie: first } })).text(), "");
  assert.equal(await (await app.request("/", { headers: { cookie: second } })).text(), "Ada");
});

Deno.test("kvStore lets the first of two concurrent writers win and fails the second with ERR_SESSION_CONFLICT", async () => {
  using kv = await Deno.openKv(":memory:");
  const { app } = makeApp({ store: kvStore(kv) });
  const cookie = cookieOf(await app.request("/count", { method: "POST" }));
  const [slow, fast] = await Promise.all([
    app.request("/count?delay=50", { method: "POST", headers: { cookie } }),
    app.request("/count", { method: "POST", headers: { cookie } }),
  ]);
  assert.equal(fast.status, 200);
  assert.equal(await fast.text(), "2");
  assert.equal(slow.status, 409);
  assert.equal(await slow.text(), "ERR_SESSION_CONFLICT");
  // The stored count is the winner's, not corrupted by the loser.
  const next = await app.request("/count", { method: "POST", headers: { cookie } });
  assert.equal(await next.text(), "3");
});

Deno.test("kvStore entries expire with the session", async () => {
  using kv = await Deno.openKv(":memory:");
  let now = Date.now();
  const { app, invalid } = makeApp({
    store: kvStore(kv, { now: () => now }),
    maxAge: 60,
    now: () => now,
  });
  const cookie = cookieOf(await app.request("/login/Ada", { method: "POST" }));
  now += 61_000;
  assert.equal(await (await app.request("/", { headers: { cookie } })).text(), "");
  assert.deepEqual(invalid, ["expired"]);
});

Deno.test("a Deno KV that never answers fails the request after timeoutMs instead of holding it", async () => {
  // A KV whose every call hangs, as one behind a network partition.
  const hung = new Proxy({}, { get: () => () => new Promise(() => {}) }) as unknown as Deno.Kv;
  const id = crypto.getRandomValues(new Uint8Array(16));
  const revocation = kvRevocation(hung, { timeoutMs: 50, cacheMs: 0 });
  await assert.rejects(revocation.isRevoked(id, 1_700_000_000), {
    code: "ERR_SESSION_STORE_UNAVAILABLE",
    message: /Deno KV did not answer/,
  });
  await assert.rejects(revocation.revoke(id, 1_700_000_000), {
    code: "ERR_SESSION_STORE_UNAVAILABLE",
  });
  const store = kvStore(hung, { timeoutMs: 50 });
  await assert.rejects(store.load(id), { code: "ERR_SESSION_STORE_UNAVAILABLE" });
  await assert.rejects(store.delete(id), { code: "ERR_SESSION_STORE_UNAVAILABLE" });
  assert.throws(() => kvStore(hung, { timeoutMs: 0 }), { code: "ERR_SESSION_CONFIG" });
});

Deno.test("kvRevocation.revokeAllBefore(instant) refuses sessions issued up to that very millisecond", async () => {
  using kv = await Deno.openKv(":memory:");
  let now = Date.UTC(2026, 0, 1, 12, 0, 0, 500);
  const revocation = kvRevocation(kv, { cacheMs: 0 });
  const { app } = makeApp({ revocation, now: () => now });
  const sameSecond = cookieOf(await app.request("/login/Early", { method: "POST" }));
  now += 300; // .800, still the same second
  await revocation.revokeAllBefore(new Date(now));
  now += 1; // .801: a login right after the cut-off, in the same second
  const after = cookieOf(await app.request("/login/After", { method: "POST" }));
  assert.equal(await (await app.request("/", { headers: { cookie: sameSecond } })).text(), "");
  assert.equal(await (await app.request("/", { headers: { cookie: after } })).text(), "After");
});

/** Each key of a local Deno KV file with the Unix time (ms) it expires at, -1 for never. */
function expiriesIn(path: string): Map<string, number> {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare("SELECT k, expiration_ms FROM kv").all();
    // Keys are stored in KV's tuple encoding: the parts' bytes between type tags.
    const text = (k: Uint8Array) =>
      Array.from(k, (b) => b < 0x20 ? "/" : String.fromCharCode(b)).join("")
        .replace(/\/+/g, "/").replace(/^\/|\/$/g, "");
    return new Map(rows.map((row) => [text(row.k as Uint8Array), Number(row.expiration_ms)]));
  } finally {
    db.close();
  }
}

Deno.test("kvRevocation keeps one entry per subject, expiring maxAge after the cut-off, and each id a minute past its expiry", async () => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite" });
  const kv = await Deno.openKv(path);
  try {
    const here = kvRevocation(kv, { cacheMs: 0, maxAge: 3600 });
    const before = new Date();
    await here.revokeSubject("user-42", before);
    await here.revokeSubject("user-42", new Date(before.getTime() - 5000));
    const stored = await kv.get(["sealed-sessions", "revoked", "subject", "user-42"]);
    assert.equal(stored.value, before.getTime() / 1000, "an earlier instant does not move it back");
    const id = newId();
    const expiresAt = Math.floor(Date.now() / 1000) + 120;
    await here.revoke(id, expiresAt);

    const expiries = expiriesIn(path);
    assert.equal(expiries.size, 2, [...expiries.keys()].join(", "));
    const subjectLeft = expiries.get("sealed-sessions/revoked/subject/user-42")! - Date.now();
    assert.ok(subjectLeft > 3_590_000 && subjectLeft <= 3_660_000, `${subjectLeft} ms left`);
    const idKey = [...expiries.keys()].find((key) => key.includes("/id/"))!;
    const idLeft = expiries.get(idKey)! - expiresAt * 1000;
    assert.ok(idLeft > 55_000 && idLeft <= 61_000, `kept ${idLeft} ms past expiry`);

    const issued = before.getTime() / 1000;
    assert.equal(await here.isRevoked(id, issued + 1), true, "the id itself");
    assert.equal(await here.isRevoked(newId(), issued, "user-42"), true, "issued at the cut-off");
    assert.equal(await here.isRevoked(newId(), issued + 0.001, "user-42"), false, "just after");
    assert.equal(await here.isRevoked(newId(), issued - 10, "user-7"), false, "another subject");
  } finally {
    kv.close();
    await Deno.remove(path);
  }
});

Deno.test("kvRevocation keeps a signed-in session's entry, its last use and its ended handle a minute past the session's expiry", async () => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite" });
  const kv = await Deno.openKv(path);
  try {
    const list = kvRevocation(kv, { seenIntervalMs: 0 });
    const issuedAt = Date.now() / 1000;
    const expiresAt = Math.floor(issuedAt) + 120;
    const handle = "00000000000000a1";
    await list.addSession("ada", {
      id: handle,
      label: "Firefox",
      issuedAt,
      lastSeenAt: issuedAt,
      expiresAt,
    });
    await list.seenSession("ada", handle, expiresAt);
    const keptPast = (key: string) => expiriesIn(path).get(key)! - expiresAt * 1000;
    for (
      const key of [
        `sealed-sessions/revoked/sessions/ada/${handle}`,
        `sealed-sessions/revoked/seen/ada/${handle}`,
      ]
    ) {
      assert.ok(
        keptPast(key) > 55_000 && keptPast(key) <= 61_000,
        `${key} kept ${keptPast(key)} ms past expiry`,
      );
    }

    assert.equal(await list.endSession("ada", handle), true);
    const expiries = expiriesIn(path);
    assert.deepEqual([...expiries.keys()], [`sealed-sessions/revoked/handle/${handle}`]);
    const handleLeft = keptPast(`sealed-sessions/revoked/handle/${handle}`);
    assert.ok(handleLeft > 55_000 && handleLeft <= 61_000, `kept ${handleLeft} ms past expiry`);
  } finally {
    kv.close();
    await Deno.remove(path);
  }
});
