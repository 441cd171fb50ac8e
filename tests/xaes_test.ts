import assert from "node:assert/strict";
import * as nodeCrypto from "node:crypto";
import { xaes256gcm, xaes256gcmWebCrypto, XaesAuthenticationError } from "../lib/cipher/mod.ts";
import { prepareNodeKey } from "../lib/cipher/xaes_node.ts";
import { prepareWebKey } from "../lib/cipher/xaes_web.ts";

const encoder = new TextEncoder();
const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

// The two published vectors of c2sp.org/XAES-256-GCM.
const VECTORS = [
  {
    key: new Uint8Array(32).fill(0x01),
    aad: "",
    ciphertext: "ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271",
  },
  {
    key: new Uint8Array(32).fill(0x03),
    aad: "c2sp.org/XAES-256-GCM",
    ciphertext: "986ec1832593df5443a179437fd083bf3fdb41abd740a21f71eb769d",
  },
];
const NONCE = encoder.encode("ABCDEFGHIJKLMNOPQRSTUVWX");
const PLAINTEXT = encoder.encode("XAES-256-GCM");

for (
  const [label, primitive] of [["node:crypto", xaes256gcm], [
    "Web Crypto",
    xaes256gcmWebCrypto,
  ]] as const
) {
  Deno.test(`xaes256gcm over ${label} reproduces the C2SP test vectors`, async (t) => {
    for (const [i, v] of VECTORS.entries()) {
      await t.step(
        `vector ${i + 1} encrypts to the published ciphertext and decrypts back`,
        async () => {
          const sealed = await primitive.encrypt(v.key, NONCE, PLAINTEXT, encoder.encode(v.aad));
          assert.equal(hex(sealed), v.ciphertext);
          const opened = await primitive.decrypt(v.key, NONCE, sealed, encoder.encode(v.aad));
          assert.deepEqual(opened, PLAINTEXT);
        },
      );
    }
  });

  Deno.test(`xaes256gcm over ${label} rejects a flipped bit, another nonce or other data with its authentication error`, async () => {
    const v = VECTORS[1]!;
    const sealed = await primitive.encrypt(v.key, NONCE, PLAINTEXT, encoder.encode(v.aad));
    for (let i = 0; i < sealed.length; i++) {
      const bad = sealed.slice();
      bad[i]! ^= 0x01;
      await assert.rejects(
        primitive.decrypt(v.key, NONCE, bad, encoder.encode(v.aad)),
        (e: unknown) =>
          e instanceof XaesAuthenticationError && e.name === "XaesAuthenticationError",
      );
    }
    const otherNonce = NONCE.slice();
    otherNonce[0]! ^= 1;
    await assert.rejects(
      primitive.decrypt(v.key, otherNonce, sealed, encoder.encode(v.aad)),
      XaesAuthenticationError,
    );
    await assert.rejects(
      primitive.decrypt(v.key, NONCE, sealed, encoder.encode("other")),
      XaesAuthenticationError,
    );
    await assert.rejects(
      primitive.decrypt(v.key, NONCE, sealed.subarray(0, 10), encoder.encode(v.aad)),
      XaesAuthenticationError,
    );
  });
}

Deno.test("xaes256gcm refuses keys and nonces of the wrong length with a RangeError", async () => {
  await assert.rejects(
    xaes256gcm.encrypt(new Uint8Array(16), NONCE, PLAINTEXT, new Uint8Array()),
    RangeError,
  );
  await assert.rejects(
    xaes256gcm.encrypt(new Uint8Array(32), new Uint8Array(12), PLAINTEXT, new Uint8Array()),
    RangeError,
  );
});

Deno.test("both XAES backends open what the other sealed", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const node = prepareNodeKey(nodeCrypto, key);
  const web = await prepareWebKey(key);
  assert.equal(node.sync, true);
  assert.equal(web.sync, false);
  for (const size of [0, 1, 15, 16, 17, 1000]) {
    const message = crypto.getRandomValues(new Uint8Array(size));
    const aad = encoder.encode("session");
    const byNode = now(node.seal(message, aad));
    assert.deepEqual(await web.open(byNode.subarray(0, 24), byNode.subarray(24), aad), message);
    const byWeb = await web.seal(message, aad);
    assert.deepEqual(now(node.open(byWeb.subarray(0, 24), byWeb.subarray(24), aad)), message);
  }
});

/** A synchronous key's answer, which must not be a promise. */
function now<T>(answer: T | Promise<T>): T {
  assert.ok(!(answer instanceof Promise), "a node:crypto key answers at once");
  return answer;
}

for (
  const [label, prepare] of [
    ["node:crypto", (key: Uint8Array) => prepareNodeKey(nodeCrypto, key)],
    ["Web Crypto", prepareWebKey],
  ] as const
) {
  Deno.test(`a prepared XAES key over ${label} seals under a fresh nonce each time, after the headroom asked for`, async () => {
    const key = await prepare(crypto.getRandomValues(new Uint8Array(32)));
    const aad = encoder.encode("session");
    const nonces = new Set<string>();
    // Past one batch of the node:crypto key's nonces (64), so that a refill is used too.
    for (let i = 0; i < 150; i++) {
      const sealed = await key.seal(PLAINTEXT, aad, 5);
      assert.equal(sealed.length, 5 + 24 + PLAINTEXT.length + 16);
      assert.deepEqual(sealed.subarray(0, 5), new Uint8Array(5));
      nonces.add(hex(sealed.subarray(5, 29)));
      const opened = await key.open(sealed.subarray(5, 29), sealed.subarray(29), aad);
      assert.deepEqual(opened, PLAINTEXT);
    }
    assert.equal(nonces.size, 150);
  });

  Deno.test(`a prepared XAES key over ${label} refuses a flipped bit with its authentication error`, async () => {
    const key = await prepare(crypto.getRandomValues(new Uint8Array(32)));
    const aad = encoder.encode("session");
    const sealed = await key.seal(PLAINTEXT, aad);
    for (let i = 0; i < sealed.length; i++) {
      const bad = sealed.slice();
      bad[i]! ^= 0x01;
      await assert.rejects(
        async () => await key.open(bad.subarray(0, 24), bad.subarray(24), aad),
        XaesAuthenticationError,
      );
    }
    await assert.rejects(
      async () => await key.open(sealed.subarray(0, 24), sealed.subarray(24, 30), aad),
      XaesAuthenticationError,
    );
  });
}

Deno.test("a node:crypto XAES key throws its authentication error at once, and a Web Crypto key rejects", async () => {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const aad = encoder.encode("session");
  const node = prepareNodeKey(nodeCrypto, raw);
  const web = await prepareWebKey(raw);
  const sealed = now(node.seal(PLAINTEXT, aad));
  const nonce = sealed.subarray(0, 24);
  assert.throws(
    () => node.open(nonce, sealed.subarray(24), new Uint8Array()),
    XaesAuthenticationError,
  );
  const refused = web.open(nonce, sealed.subarray(24), new Uint8Array());
  assert.ok(refused instanceof Promise);
  await assert.rejects(refused, XaesAuthenticationError);
});

Deno.test("preparing an XAES key refuses a key of the wrong length with a RangeError", async () => {
  assert.throws(() => prepareNodeKey(nodeCrypto, new Uint8Array(16)), RangeError);
  await assert.rejects(prepareWebKey(new Uint8Array(33)), RangeError);
});
