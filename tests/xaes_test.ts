import assert from "node:assert/strict";
import {
  hasNodeCrypto,
  prepareXaesKey,
  xaes256gcm,
  xaes256gcmWebCrypto,
  XaesAuthenticationError,
} from "../lib/xaes.ts";

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

Deno.test("both XAES backends open what the other sealed", { ignore: !hasNodeCrypto }, async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const node = await prepareXaesKey(key, "node");
  const web = await prepareXaesKey(key, "webcrypto");
  assert.equal(node.sync, true);
  assert.equal(web.sync, false);
  for (const size of [0, 1, 15, 16, 17, 1000]) {
    const nonce = crypto.getRandomValues(new Uint8Array(24));
    const message = crypto.getRandomValues(new Uint8Array(size));
    const aad = encoder.encode("session");
    assert.deepEqual(await web.open(nonce, await node.seal(nonce, message, aad), aad), message);
    assert.deepEqual(await node.open(nonce, await web.seal(nonce, message, aad), aad), message);
  }
});
