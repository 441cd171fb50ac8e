import assert from "node:assert/strict";
import {
  prepareXaesKeys,
  startOnWebCrypto,
  SWITCH_DELAY_MS,
  type XaesKeySet,
} from "../lib/cipher/key_set.ts";

const RAW = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
const web = await prepareXaesKeys(RAW, "webcrypto");
const node = await prepareXaesKeys(RAW, "node");

/** Past the moment a switch set by a message now would have happened. */
const pastTheSwitch = () => new Promise((resolve) => setTimeout(resolve, SWITCH_DELAY_MS + 30));

/** A loader that counts its calls. */
function loader(
  load: () => XaesKeySet | undefined,
): { load: () => XaesKeySet | undefined; calls: () => number } {
  let calls = 0;
  return { load: () => (calls++, load()), calls: () => calls };
}

Deno.test("startOnWebCrypto() answers on Web Crypto until shortly after the first message, then on node:crypto", async () => {
  const { load, calls } = loader(() => node);
  const ring = startOnWebCrypto(web, load);
  assert.equal(ring.sync, false);
  assert.equal(ring.keys[0], web.keys[0]);
  ring.firstUse?.();
  assert.equal(ring.sync, false, "the switch waits for the timer");
  await pastTheSwitch();
  assert.equal(calls(), 1);
  assert.equal(ring.sync, true);
  assert.equal(ring.keys[0], node.keys[0]);
  assert.equal(ring.keys[1], node.keys[1]);
  assert.equal(ring.firstUse, undefined, "nothing more to schedule");
});

Deno.test("startOnWebCrypto() does not switch before a first message", async () => {
  const { load, calls } = loader(() => node);
  const ring = startOnWebCrypto(web, load);
  await pastTheSwitch();
  assert.equal(calls(), 0);
  assert.equal(ring.sync, false);
});

Deno.test("startOnWebCrypto() schedules the switch once, however many messages come first", async () => {
  const { load, calls } = loader(() => node);
  const ring = startOnWebCrypto(web, load);
  for (let i = 0; i < 5; i++) ring.firstUse?.();
  await pastTheSwitch();
  assert.equal(ring.sync, true);
  assert.equal(calls(), 1);
});

Deno.test("startOnWebCrypto() leaves a key taken before the switch as it was, for the message in flight", async () => {
  const ring = startOnWebCrypto(web, () => node);
  ring.firstUse?.();
  const before = ring.keys[0]!;
  const aad = new TextEncoder().encode("session");
  const sealing = before.seal(new TextEncoder().encode("in flight"), aad);
  await pastTheSwitch();
  assert.equal(ring.sync, true);
  // Replaced by reference, never changed in place.
  assert.equal(before.sync, false);
  assert.equal(before, web.keys[0]);
  const sealed = await sealing;
  const opened = ring.keys[0]!.open(sealed.subarray(0, 24), sealed.subarray(24), aad);
  assert.ok(!(opened instanceof Promise));
  assert.equal(new TextDecoder().decode(opened), "in flight");
});

Deno.test("startOnWebCrypto() stays on Web Crypto, logging once, when node:crypto refuses the keys", async () => {
  const logged: unknown[][] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    const { load, calls } = loader(() => {
      throw new Error("refused");
    });
    const ring = startOnWebCrypto(web, load);
    ring.firstUse?.();
    await pastTheSwitch();
    for (let i = 0; i < 3; i++) ring.firstUse?.();
    await pastTheSwitch();
    assert.equal(ring.sync, false);
    assert.equal(ring.keys[0], web.keys[0]);
    assert.equal(calls(), 1, "never tried again");
    assert.equal(logged.length, 1);
    assert.match(String(logged[0]![0]), /staying on Web Crypto/);
  } finally {
    console.error = error;
  }
});

Deno.test("startOnWebCrypto() stays on Web Crypto, silently, where node:crypto turns out to be missing", async () => {
  const logged: unknown[][] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    const ring = startOnWebCrypto(web, () => undefined);
    ring.firstUse?.();
    await pastTheSwitch();
    assert.equal(ring.sync, false);
    assert.deepEqual(logged, []);
  } finally {
    console.error = error;
  }
});
