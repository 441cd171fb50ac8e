/**
 * `kvRevocation`'s list of each subject's signed-in sessions: what it keeps, what it hides, and
 * ending one session of a subject on every instance that shares the KV.
 */

import assert from "node:assert/strict";
import { SessionError } from "../lib/mod.ts";
import { kvRevocation } from "../lib/kv/mod.ts";

const T0 = Date.UTC(2026, 0, 1) / 1000;
const newId = () => crypto.getRandomValues(new Uint8Array(16));

/** A signed-in session started `offset` seconds after T0, alive for an hour. */
function entry(id: string, offset: number, label?: string) {
  return {
    id,
    label,
    issuedAt: T0 + offset,
    lastSeenAt: T0 + offset,
    expiresAt: T0 + offset + 3600,
  };
}

/** A Deno KV that counts the calls made to it, by method. */
function counted(kv: Deno.Kv): { kv: Deno.Kv; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const wrapper = new Proxy(kv, {
    get(target, name) {
      const value = Reflect.get(target, name);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.set(String(name), (calls.get(String(name)) ?? 0) + 1);
        return value.apply(target, args);
      };
    },
  });
  return { kv: wrapper, calls };
}

Deno.test("kvRevocation.listSessions gives a subject's sessions newest first", async () => {
  using kv = await Deno.openKv(":memory:");
  const list = kvRevocation(kv, { now: () => (T0 + 60) * 1000 });
  await list.addSession("ada", entry("00000000000000a1", 1, "Firefox on Linux"));
  await list.addSession("ada", entry("00000000000000a3", 3, "Safari on iPhone"));
  await list.addSession("ada", entry("00000000000000a2", 2));
  await list.addSession("grace", entry("00000000000000b1", 4, "Chrome"));
  assert.deepEqual(await list.listSessions("ada"), [
    entry("00000000000000a3", 3, "Safari on iPhone"),
    entry("00000000000000a2", 2),
    entry("00000000000000a1", 1, "Firefox on Linux"),
  ]);
  assert.deepEqual(await list.listSessions("nobody"), []);
});

Deno.test("kvRevocation.addSession keeps the stored label when the new entry has none", async () => {
  using kv = await Deno.openKv(":memory:");
  const list = kvRevocation(kv, { now: () => (T0 + 60) * 1000 });
  await list.addSession("ada", entry("00000000000000a1", 1, "Firefox on Linux"));
  // A regenerate() with a longer lifetime says nothing of the label.
  await list.addSession("ada", { ...entry("00000000000000a1", 1), expiresAt: T0 + 7200 });
  assert.deepEqual(await list.listSessions("ada"), [
    { ...entry("00000000000000a1", 1, "Firefox on Linux"), expiresAt: T0 + 7200 },
  ]);
  await list.addSession("ada", entry("00000000000000a1", 1, "Firefox on Windows"));
  assert.equal((await list.listSessions("ada"))[0]!.label, "Firefox on Windows");
});

Deno.test("kvRevocation.addSession drops the subject's oldest entries beyond maxSessions", async () => {
  using kv = await Deno.openKv(":memory:");
  const list = kvRevocation(kv, { maxSessions: 2, now: () => (T0 + 60) * 1000 });
  await list.addSession("ada", entry("00000000000000a2", 2));
  await list.addSession("ada", entry("00000000000000a1", 1));
  await list.addSession("ada", entry("00000000000000a3", 3));
  await list.addSession("grace", entry("00000000000000b1", 0));
  const ids = async (subject: string) => (await list.listSessions(subject)).map((s) => s.id);
  assert.deepEqual(await ids("ada"), ["00000000000000a3", "00000000000000a2"]);
  // An entry older than every one kept does not push a newer one out.
  await list.addSession("ada", entry("0000000000000000", 0));
  assert.deepEqual(await ids("ada"), ["00000000000000a3", "00000000000000a2"]);
  // Updating a kept entry drops nothing.
  await list.addSession("ada", entry("00000000000000a2", 2, "Firefox"));
  assert.deepEqual(await ids("ada"), ["00000000000000a3", "00000000000000a2"]);
  assert.deepEqual(await ids("grace"), ["00000000000000b1"], "other subjects keep theirs");
  const stored = await Array.fromAsync(kv.list({ prefix: ["sealed-sessions", "revoked"] }));
  assert.equal(stored.length, 3, "dropped entries leave KV");
  // The dropped session goes on: only the list forgot it.
  assert.equal(await list.isRevoked(newId(), T0 + 1, "ada", "00000000000000a1"), false);
});

Deno.test("kvRevocation.listSessions leaves out sessions that have expired", async () => {
  using kv = await Deno.openKv(":memory:");
  let now = (T0 + 60) * 1000;
  const list = kvRevocation(kv, { now: () => now });
  await list.addSession("ada", { ...entry("00000000000000a1", 1), expiresAt: T0 + 120 });
  await list.addSession("ada", entry("00000000000000a2", 2));
  now = (T0 + 120) * 1000;
  assert.deepEqual((await list.listSessions("ada")).map((s) => s.id), ["00000000000000a2"]);
});

Deno.test("kvRevocation.seenSession writes a session's use at most once per seenIntervalMs", async () => {
  using memory = await Deno.openKv(":memory:");
  const { kv, calls } = counted(memory);
  let now = (T0 + 10) * 1000;
  const list = kvRevocation(kv, { seenIntervalMs: 60_000, now: () => now });
  await list.addSession("ada", entry("00000000000000a1", 1));
  const sets = () => calls.get("set") ?? 0;
  const atLogin = sets();
  // The login wrote it down: uses within the interval write nothing.
  await list.seenSession("ada", "00000000000000a1", T0 + 3601);
  now += 30_000;
  await list.seenSession("ada", "00000000000000a1", T0 + 3601);
  assert.equal(sets(), atLogin, "uses within the interval after the login write nothing");
  now += 30_000;
  await list.seenSession("ada", "00000000000000a1", T0 + 3601);
  assert.equal(sets(), atLogin + 1);
  assert.equal((await list.listSessions("ada"))[0]!.lastSeenAt, T0 + 70);
  now += 30_000;
  await list.seenSession("ada", "00000000000000a1", T0 + 3601);
  assert.equal(sets(), atLogin + 1, "within the interval again: nothing");
  // An update of the entry that says less does not move it back.
  await list.addSession("ada", entry("00000000000000a1", 1));
  assert.equal((await list.listSessions("ada"))[0]!.lastSeenAt, T0 + 70);
});

Deno.test("kvRevocation.removeSession takes the entry out and seenSession does not bring it back", async () => {
  using kv = await Deno.openKv(":memory:");
  const list = kvRevocation(kv, { seenIntervalMs: 0, now: () => (T0 + 60) * 1000 });
  await list.addSession("ada", entry("00000000000000a1", 1));
  await list.addSession("ada", entry("00000000000000a2", 2));
  await list.removeSession("ada", "00000000000000a1");
  await list.seenSession("ada", "00000000000000a1", T0 + 3601);
  assert.deepEqual((await list.listSessions("ada")).map((s) => s.id), ["00000000000000a2"]);
  await list.removeSession("ada", "00000000000000a1");
});

Deno.test("kvRevocation.endSession ends a session on every instance sharing the KV, once", async () => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite" });
  const kvA = await Deno.openKv(path);
  const kvB = await Deno.openKv(path);
  try {
    let now = (T0 + 60) * 1000;
    const a = kvRevocation(kvA, { cacheMs: 60_000, now: () => now });
    const b = kvRevocation(kvB, { cacheMs: 0, now: () => now });
    const cachedB = kvRevocation(kvB, { cacheMs: 1000, now: () => now });
    const handle = "00000000000000a1";
    const [id, regenerated] = [newId(), newId()];
    await a.addSession("ada", entry(handle, 1, "Firefox"));
    await a.addSession("ada", entry("00000000000000a2", 2));
    for (const instance of [a, b, cachedB]) {
      assert.equal(await instance.isRevoked(id, T0 + 1, "ada", handle), false);
    }

    assert.equal(await b.endSession("grace", handle), false, "another subject's handle");
    assert.equal(await a.isRevoked(id, T0 + 1, "ada", handle), false);
    assert.equal(await b.endSession("ada", handle), true);
    assert.equal(await b.endSession("ada", handle), false, "ended already");
    assert.equal(await a.endSession("ada", handle), false, "ended already, on another instance");

    // Every id carrying the handle (a copy, or one after regenerate()) is refused.
    assert.equal(await b.isRevoked(id, T0 + 1, "ada", handle), true);
    assert.equal(await b.isRevoked(regenerated, T0 + 1, "ada", handle), true);
    assert.equal(await a.isRevoked(regenerated, T0 + 1, "ada", handle), true, "not cached");
    assert.equal(await cachedB.isRevoked(id, T0 + 1, "ada", handle), false, "cached answer");
    now += 1000;
    assert.equal(await cachedB.isRevoked(id, T0 + 1, "ada", handle), true, "after cacheMs");
    assert.equal(await a.isRevoked(newId(), T0 + 2, "ada", "00000000000000a2"), false);
    assert.deepEqual((await a.listSessions("ada")).map((s) => s.id), ["00000000000000a2"]);
    // A late update of the ended session (a request that began before) does not add it back.
    await a.addSession("ada", entry(handle, 1));
    assert.deepEqual((await b.listSessions("ada")).map((s) => s.id), ["00000000000000a2"]);
  } finally {
    kvA.close();
    kvB.close();
    await Deno.remove(path);
  }
});

Deno.test("kvRevocation.endSession refuses the handle on its own instance at once, despite a cached answer", async () => {
  using kv = await Deno.openKv(":memory:");
  const list = kvRevocation(kv, { cacheMs: 60_000, now: () => (T0 + 60) * 1000 });
  const id = newId();
  await list.addSession("ada", entry("00000000000000a1", 1));
  assert.equal(await list.isRevoked(id, T0 + 1, "ada", "00000000000000a1"), false);
  assert.equal(await list.endSession("ada", "00000000000000a1"), true);
  assert.equal(await list.isRevoked(id, T0 + 1, "ada", "00000000000000a1"), true);
});

Deno.test("kvRevocation.isRevoked reads the session's handle in its one getMany", async () => {
  using memory = await Deno.openKv(":memory:");
  const { kv, calls } = counted(memory);
  const list = kvRevocation(kv, { cacheMs: 0, now: () => (T0 + 60) * 1000 });
  assert.equal(await list.isRevoked(newId(), T0 + 1, "ada", "00000000000000a1"), false);
  assert.deepEqual([...calls], [["getMany", 1]]);
});

Deno.test("kvRevocation.listSessions hides sessions started up to revokeSubject's or revokeAllBefore's cut-off", async () => {
  using kv = await Deno.openKv(":memory:");
  const list = kvRevocation(kv, { now: () => (T0 + 60) * 1000 });
  await list.addSession("ada", entry("00000000000000a1", 1));
  await list.addSession("ada", entry("00000000000000a2", 2.5));
  await list.addSession("ada", entry("00000000000000a3", 3));
  await list.addSession("grace", entry("00000000000000b1", 1));
  const ids = async (subject: string) => (await list.listSessions(subject)).map((s) => s.id);

  await list.revokeSubject("ada", new Date((T0 + 2.5) * 1000));
  assert.deepEqual(await ids("ada"), ["00000000000000a3"], "started up to the cut-off");
  assert.deepEqual(await ids("grace"), ["00000000000000b1"]);
  const stored = await Array.fromAsync(
    kv.list({ prefix: ["sealed-sessions", "revoked", "sessions", "ada"] }),
  );
  assert.equal(stored.length, 1, "the entries the cut-off ended leave KV");

  await list.revokeAllBefore(new Date((T0 + 3) * 1000));
  assert.deepEqual(await ids("ada"), []);
  assert.deepEqual(await ids("grace"), []);
});

Deno.test("kvRevocation's list of sessions fails with ERR_SESSION_STORE_UNAVAILABLE when Deno KV does", async () => {
  const down = new Proxy({}, {
    get: () => () => {
      throw new Error("connection refused");
    },
  }) as unknown as Deno.Kv;
  const list = kvRevocation(down, { cacheMs: 0, seenIntervalMs: 60_000 });
  const unavailable = (error: unknown) =>
    error instanceof SessionError && error.code === "ERR_SESSION_STORE_UNAVAILABLE";
  await assert.rejects(list.addSession("ada", entry("00000000000000a1", 1)), unavailable);
  await assert.rejects(list.listSessions("ada"), unavailable);
  await assert.rejects(list.seenSession("ada", "00000000000000a1", T0 + 3601), unavailable);
  await assert.rejects(list.endSession("ada", "00000000000000a1"), unavailable);
  await assert.rejects(list.removeSession("ada", "00000000000000a1"), unavailable);
  await assert.rejects(list.isRevoked(newId(), T0 + 1, "ada", "00000000000000a1"), unavailable);
  // Within the interval, a use costs no call to KV, so it cannot fail.
  await list.seenSession("ada", "00000000000000a1", T0 + 3601);
});

Deno.test("kvRevocation refuses a maxSessions or seenIntervalMs it cannot use, naming it", () => {
  const kv = {} as Deno.Kv;
  for (const maxSessions of [0, 1.5, Number.NaN]) {
    assert.throws(() => kvRevocation(kv, { maxSessions }), {
      code: "ERR_SESSION_CONFIG",
      message: /maxSessions/,
    });
  }
  for (const seenIntervalMs of [-1, Number.POSITIVE_INFINITY, Number.NaN]) {
    assert.throws(() => kvRevocation(kv, { seenIntervalMs }), {
      code: "ERR_SESSION_CONFIG",
      message: /seenIntervalMs/,
    });
  }
});
