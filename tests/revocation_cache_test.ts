import assert from "node:assert/strict";
import { RevocationCache } from "../lib/server_side/revocation_cache.ts";
import { SessionConfigError } from "../lib/common/errors.ts";

const none = { revoked: false, before: 0 };

Deno.test("RevocationCache, shared by the Deno KV and Redis revocation lists", async (t) => {
  await t.step("reuses an answer for cacheMs, counted from the start of its read", () => {
    let now = 0;
    const cache = new RevocationCache({ cacheMs: 100, now: () => now });
    assert.equal(cache.cached("a", 10), undefined);
    const read = cache.begin();
    now = 40; // the read took 40 ms
    assert.equal(cache.settle(read, "a", none, 10), false);
    assert.equal(cache.cached("a", 10), false);
    now = 99;
    assert.equal(cache.cached("a", 10), false);
    now = 100;
    assert.equal(cache.cached("a", 10), undefined, "stale 100 ms after the read began");
  });

  await t.step("a revocation made while a read was in flight wins over its answer", () => {
    const cache = new RevocationCache({ cacheMs: 60_000 });
    const read = cache.begin();
    cache.revoked("a");
    assert.equal(cache.settle(read, "a", none, 10), true);
    assert.equal(cache.cached("a", 10), true);
  });

  await t.step("a revocation made here is not undone by a later read from a replica behind", () => {
    const cache = new RevocationCache({ cacheMs: 60_000 });
    cache.revoked("a");
    const read = cache.begin();
    // Eventually consistent: the replica read has not seen the revocation yet.
    assert.equal(cache.settle(read, "a", none, 10), true);
    assert.equal(cache.cached("a", 10), true);
  });

  await t.step("a cut-off set here is not moved back by a later read from a replica behind", () => {
    const cache = new RevocationCache({ cacheMs: 60_000 });
    cache.cutoff(500);
    const read = cache.begin();
    assert.equal(cache.settle(read, "a", { revoked: false, before: 100 }, 400), true);
    assert.equal(cache.cached("a", 400), true);
    const later = cache.begin();
    assert.equal(
      cache.settle(later, "b", { revoked: false, before: 600 }, 550),
      true,
      "a higher one is taken",
    );
  });

  await t.step("a cut-off made while a read was in flight wins, and never moves back", () => {
    const cache = new RevocationCache({ cacheMs: 60_000 });
    const read = cache.begin();
    cache.cutoff(500);
    assert.equal(cache.settle(read, "a", { revoked: false, before: 100 }, 400), true);
    cache.cutoff(200);
    assert.equal(cache.cached("a", 400), true, "issued before the higher cut-off");
    assert.equal(cache.cached("a", 500), true, "issued at the cut-off: up to it is refused");
    assert.equal(cache.cached("a", 500.001), false, "issued a millisecond after it");
  });

  await t.step("no number of reads pushes out a revocation made here", () => {
    const cache = new RevocationCache({ cacheMs: 60_000, cacheSize: 10 });
    cache.revoked("a");
    // Many visitors fill the cache with answers read from the shared list.
    for (let i = 0; i < 1000; i++) cache.settle(cache.begin(), `visitor-${i}`, none, 10);
    assert.equal(cache.cached("a", 10), true);
    // A replica behind still does not undo it.
    assert.equal(cache.settle(cache.begin(), "a", none, 10), true);
  });

  await t.step("answers read make room one at a time, oldest first", () => {
    const cache = new RevocationCache({ cacheMs: 60_000, cacheSize: 3 });
    for (const key of ["a", "b", "c", "d"]) cache.settle(cache.begin(), key, none, 10);
    assert.equal(cache.cached("a", 10), undefined, "the oldest answer is forgotten");
    for (const key of ["b", "c", "d"]) assert.equal(cache.cached(key, 10), false);
  });

  await t.step("revocations made here are forgotten only by as many newer ones", () => {
    const cache = new RevocationCache({ cacheMs: 60_000, cacheSize: 2 });
    for (const key of ["a", "b", "c"]) cache.revoked(key);
    assert.equal(cache.cached("a", 10), undefined, "the oldest is read again from the list");
    assert.equal(cache.cached("b", 10), true);
    assert.equal(cache.cached("c", 10), true);
  });

  await t.step("subjects' cut-offs set here stay bounded after everyone's was set", () => {
    const cache = new RevocationCache({ cacheMs: 60_000, cacheSize: 3 });
    cache.cutoff(100);
    for (let i = 0; i < 10; i++) cache.cutoff(500, `user-${i}`);
    // A replica behind answers no cut-off for any subject: only what is still kept here counts.
    const stale = { revoked: false, before: 0, subjectBefore: 0 };
    const kept = Array.from(
      { length: 10 },
      (_, i) => cache.settle(cache.begin(), `id-${i}`, stale, 400, `user-${i}`),
    );
    assert.deepEqual(kept, [false, false, false, false, false, false, false, true, true, true]);
    assert.equal(cache.settle(cache.begin(), "old", stale, 50, "user-0"), true, "everyone's holds");
  });

  await t.step("remembers when each of many more sessions than cacheSize was last seen", () => {
    let now = 0;
    const cache = new RevocationCache({ cacheSize: 10, now: () => now });
    const handles = Array.from({ length: 5000 }, (_, i) => i.toString(16).padStart(16, "0"));
    assert.equal(handles.filter((h) => cache.seenDue(h, 60_000)).length, 5000, "first use");
    now = 30_000;
    const again = handles.filter((h) => cache.seenDue(h, 60_000)).length;
    assert.ok(again < 50, `${again} of 5000 written again within the interval`);
    now = 100_000;
    assert.equal(handles.filter((h) => cache.seenDue(h, 60_000)).length, 5000, "due again");
    cache.seen("ffffffffffffffff");
    assert.equal(cache.seenDue("ffffffffffffffff", 60_000), false, "a login counts as seen");
  });

  await t.step("refuses a bad cacheMs or cacheSize, naming it", () => {
    assert.throws(() => new RevocationCache({ cacheMs: -1 }), SessionConfigError);
    assert.throws(
      () => new RevocationCache({ cacheSize: 0 }),
      (error: unknown) =>
        error instanceof SessionConfigError && error.message.includes("cacheSize"),
    );
  });
});
