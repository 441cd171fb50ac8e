/**
 * Tests that the two backends of the Flask codec agree: `node:crypto` and Web Crypto for
 * HMAC-SHA1, `node:zlib` and Compression Streams for zlib. The codec picks `node:` where it
 * exists (as in Deno); the other backend is what runs on runtimes without `node:` modules.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { deflateSync } from "node:zlib";
import fc from "fast-check";
import {
  deflate,
  deflateWithStreams,
  inflateBounded,
  inflateWithStreams,
  MAX_PAYLOAD_BYTES,
} from "../lib/flask/_compression.ts";
import { derivedKeys, sign, verify } from "../lib/flask/_signer.ts";

const RUNS = { numRuns: 100 };
const secret = fc.oneof(
  fc.string({
    unit: fc.integer({ min: 0, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff)
      .map((c) => String.fromCodePoint(c)),
    minLength: 1,
    maxLength: 80,
  }),
  fc.uint8Array({ minLength: 1, maxLength: 100 }),
);

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

Deno.test("derivedKeys() derives the key the Flask vectors give, on both backends", async () => {
  for (const backend of ["node", "webcrypto"] as const) {
    const [key] = await derivedKeys(["tutorial-secret-key"], backend);
    const mac = await sign(key!, "eyJsYXN0bmFtZSI6IkxvdmVsYWNlIiwibmFtZSI6IkFkYSJ9.ZVPxAA");
    assert.strictEqual(Buffer.from(mac).toString("base64url"), "fHqttHwxsqfvvZpjyHrpoTv5wgE");
  }
});

Deno.test("sign() and verify() agree with Node's HMAC on both backends", async () => {
  await fc.assert(
    fc.asyncProperty(secret, fc.string({ maxLength: 200 }), async (key, message) => {
      const derived = createHmac("sha1", key).update("cookie-session").digest();
      const expected = createHmac("sha1", derived).update(message).digest();
      const keys = [key];
      for (const backend of ["node", "webcrypto"] as const) {
        const [k] = await derivedKeys(keys, backend);
        assert.strictEqual(hex(await sign(k!, message)), hex(expected));
        assert.ok(await verify([k!], message, expected));
        const wrong = new Uint8Array(expected);
        wrong[19]! ^= 1;
        assert.ok(!(await verify([k!], message, wrong)));
        assert.ok(!(await verify([k!], message, expected.subarray(0, 19))));
      }
    }),
    RUNS,
  );
});

Deno.test("verify() accepts a signature made by any of the keys, on both backends", async () => {
  for (const backend of ["node", "webcrypto"] as const) {
    const [a, b, c] = await derivedKeys(["key-a", "key-b", new Uint8Array([1, 2, 3])], backend);
    for (const signer of [a!, b!, c!]) {
      assert.ok(await verify([a!, b!, c!], "message", await sign(signer, "message")));
    }
    assert.ok(!(await verify([a!, b!], "message", await sign(c!, "message"))));
  }
});

Deno.test("derivedKeys() derives once per array and again after a change in place", async () => {
  const keys = ["one"];
  const first = await derivedKeys(keys);
  assert.strictEqual(await derivedKeys(keys), first);
  assert.notStrictEqual(await derivedKeys(["one"]), first);
  keys[0] = "two";
  const second = await derivedKeys(keys);
  assert.notStrictEqual(second, first);
  assert.notStrictEqual(hex(await sign(second[0]!, "m")), hex(await sign(first[0]!, "m")));
});

Deno.test("both inflaters read what both deflaters and Python's zlib write", async () => {
  // zlib.compress(b'{"lastname":"Lovelace","name":"Ada"}') in Python 3.11 (zlib 1.2.13).
  const python = Buffer.from(
    "eJyrVspJLC7JS8xNVbJS8skvS81JTE5V0lGCijimJCrVAgDlMwvQ",
    "base64url",
  );
  const expected = '{"lastname":"Lovelace","name":"Ada"}';
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), async (bytes) => {
      for (const stream of [await deflate(bytes), await deflateWithStreams(bytes)]) {
        assert.deepStrictEqual(await inflateBounded(stream, 4096), bytes);
        assert.deepStrictEqual(await inflateWithStreams(stream, 4096), bytes);
      }
    }),
    RUNS,
  );
  for (const inflate of [inflateBounded, inflateWithStreams]) {
    assert.strictEqual(new TextDecoder().decode(await inflate(python, 4096)), expected);
  }
});

Deno.test("both inflaters refuse broken zlib streams", async () => {
  const good = deflateSync(new TextEncoder().encode('{"a":1}'));
  const badChecksum = new Uint8Array(good);
  badChecksum[badChecksum.length - 1]! ^= 1;
  const broken = [
    new Uint8Array(),
    good.subarray(0, good.length - 1),
    good.subarray(0, 4),
    badChecksum,
    new Uint8Array([0x78, 0x9c, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]), // gzip, not zlib
    // FDICT set: a preset dictionary, which Python's zlib.decompress cannot supply.
    new Uint8Array([0x78, 0x20, 0, 0, 0, 1, 0x63, 0, 0, 0, 1, 0, 1]),
  ];
  for (const stream of broken) {
    assert.strictEqual(await inflateBounded(stream, 4096), undefined, hex(stream));
    assert.strictEqual(await inflateWithStreams(stream, 4096), undefined, hex(stream));
  }
});

Deno.test("both inflaters stop at the bound, quickly, for a zip bomb", async () => {
  const bomb = deflateSync(new Uint8Array(16 * 1024 * 1024), { level: 9 });
  for (const inflate of [inflateBounded, inflateWithStreams]) {
    const start = performance.now();
    assert.strictEqual(await inflate(bomb, MAX_PAYLOAD_BYTES), undefined);
    const elapsed = performance.now() - start;
    assert.ok(elapsed < 500, `${inflate.name} took ${elapsed} ms`);
  }
  const exact = deflateSync(new Uint8Array(MAX_PAYLOAD_BYTES));
  for (const inflate of [inflateBounded, inflateWithStreams]) {
    assert.strictEqual((await inflate(exact, MAX_PAYLOAD_BYTES))?.length, MAX_PAYLOAD_BYTES);
    assert.strictEqual(await inflate(exact, MAX_PAYLOAD_BYTES - 1), undefined);
  }
});
