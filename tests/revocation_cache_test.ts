import assert from "node:assert/strict";
import { RevocationCache } from "../lib/session/revocation_cache.ts";
import { SessionConfigError } from "../lib/session/errors.ts";

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

  await t.step("making room keeps the facts a read in flight must still see", () => {
    const cache = new RevocationCache({ cacheMs: 60_000, cacheSize: 1 });
    const read = cache.begin();
    cache.revoked("a");
    const other = cache.begin();
    assert.equal(cache.settle(other, "b", none, 10), false, "fills the one-entry cache");
    assert.equal(cache.settle(read, "a", none, 10), true);
  });

  await t.step("a failed read learns nothing and holds nothing back", () => {
    const cache = new RevocationCache({ cacheMs: 60_000, cacheSize: 1 });
    const failed = cache.begin();
    cache.abandon(failed);
    cache.revoked("a");
    cache.revoked("b");
    assert.equal(cache.cached("a", 10), undefined, "with no read in flight, room is made");
    assert.equal(cache.cached("b", 10), undefined, "no cut-off known yet");
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
