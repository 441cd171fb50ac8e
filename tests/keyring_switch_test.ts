import assert from "node:assert/strict";
import { startOnWebCrypto, SWITCH_DELAY_MS } from "../lib/session/keyring_switch.ts";
import { deriveKeyring, type Keyring } from "../lib/session/keys.ts";

const SECRETS = ["the switch test secret, 32 bytes or more", "an older switch test secret (32+)"];
const web = await deriveKeyring(SECRETS, "webcrypto");
const node = await deriveKeyring(SECRETS, "node");

/** Past the moment a switch set by a message now would have happened. */
const pastTheSwitch = () => new Promise((resolve) => setTimeout(resolve, SWITCH_DELAY_MS + 30));

/** A loader that counts its calls. */
function loader(
  load: () => Keyring | undefined,
): { load: () => Keyring | undefined; calls: () => number } {
  let calls = 0;
  return { load: () => (calls++, load()), calls: () => calls };
}

Deno.test("startOnWebCrypto() answers on Web Crypto until shortly after the first message, then on node:crypto", async () => {
  const { load, calls } = loader(() => node);
  const ring = startOnWebCrypto(web, load);
  assert.equal(ring.sync, false);
  assert.equal(ring.sealingKey(), web.sealingKey());
  assert.equal(ring.sync, false, "the switch waits for the timer");
  await pastTheSwitch();
  assert.equal(calls(), 1);
  assert.equal(ring.sync, true);
  assert.equal(ring.sealingKey(), node.sealingKey());
  const id = node.sealingKey().idNumber;
  assert.equal(ring.find(id)?.key, node.find(id)?.key);
});

Deno.test("startOnWebCrypto() does not switch before a first message", async () => {
  const { load, calls } = loader(() => node);
  const ring = startOnWebCrypto(web, load);
  await pastTheSwitch();
  assert.equal(calls(), 0);
  assert.equal(ring.sync, false);
});

Deno.test("startOnWebCrypto() counts a lookup by key id as a first message", async () => {
  const { load } = loader(() => node);
  const ring = startOnWebCrypto(web, load);
  assert.equal(ring.find(0xffff_ffff), undefined);
  await pastTheSwitch();
  assert.equal(ring.sync, true);
});

Deno.test("startOnWebCrypto() leaves a key taken before the switch as it was, for the message in flight", async () => {
  const ring = startOnWebCrypto(web, () => node);
  const before = ring.sealingKey();
  const aad = new TextEncoder().encode("session");
  const sealing = before.xaes.seal(new TextEncoder().encode("in flight"), aad);
  await pastTheSwitch();
  assert.equal(ring.sync, true);
  // Replaced by reference, never changed in place.
  assert.equal(before.xaes.sync, false);
  assert.equal(before, web.sealingKey());
  const sealed = await sealing;
  const opened = ring.sealingKey().xaes.open(sealed.subarray(0, 24), sealed.subarray(24), aad);
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
    ring.sealingKey();
    await pastTheSwitch();
    for (let i = 0; i < 3; i++) ring.sealingKey();
    await pastTheSwitch();
    assert.equal(ring.sync, false);
    assert.equal(ring.sealingKey(), web.sealingKey());
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
    ring.sealingKey();
    await pastTheSwitch();
    assert.equal(ring.sync, false);
    assert.deepEqual(logged, []);
  } finally {
    console.error = error;
  }
});
