import assert from "node:assert/strict";
import fc from "fast-check";
import { InvalidSessionError, SessionConfigError } from "../lib/mod.ts";
import { createSealer, type InvalidReason, type SessionRecord } from "../lib/sealing/mod.ts";
import { xaes256gcmWebCrypto } from "../lib/cipher/mod.ts";
import { HKDF_INFO_KEY, HKDF_INFO_KEY_ID, HKDF_SALT } from "../lib/sealing/keys.ts";

const SECRET = "the first test secret, long enough to be a key";
const OTHER = "the second test secret, also more than 32 bytes";
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const NOW = 1_700_000_000;
const encoder = new TextEncoder();

function record(data: Record<string, unknown>, overrides: Partial<SessionRecord> = {}) {
  return {
    id: crypto.getRandomValues(new Uint8Array(16)),
    issuedAt: NOW,
    expiresAt: NOW + 3600,
    idleExpiresAt: 0,
    data,
    ...overrides,
  };
}

/** Asserts that `answer` is a promise that rejects with the invalid-session error; returns its reason. */
async function invalidReason(answer: unknown): Promise<InvalidReason> {
  assert.ok(answer instanceof Promise, "expected a promise");
  let caught: unknown;
  await assert.rejects(answer, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof InvalidSessionError, `expected InvalidSessionError, got ${caught}`);
  assert.equal(caught.code, "ERR_SESSION_INVALID");
  return caught.reason;
}

function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  return Uint8Array.from(
    atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)),
    (c) => c.charCodeAt(0),
  );
}

/** HKDF-SHA256 over Web Crypto, independent of the library's own derivation. */
async function hkdf(secret: string, info: Uint8Array, length: number): Promise<Uint8Array> {
  const base = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: HKDF_SALT as Uint8Array<ArrayBuffer>,
      info: info as Uint8Array<ArrayBuffer>,
    },
    base,
    length * 8,
  );
  return new Uint8Array(bits);
}

interface Handmade {
  version?: number;
  headerLength?: number;
  extraHeader?: Uint8Array;
  id?: Uint8Array;
  issuedAt?: number;
  expiresAt?: number;
  idleExpiresAt?: number;
  body: Uint8Array | string;
  cookieName?: string;
}

/**
 * Seals a value by hand from the documented layout (lib/sealing/sealer.ts):
 * value = base64url(version || keyId || nonce || ciphertext || tag),
 * aad = version || keyId || cookieName,
 * plaintext = headerLength || sessionId || issuedAt || expiresAt || idleExpiresAt || json.
 */
async function sealByHand(secret: string, options: Handmade): Promise<string> {
  const keyId = await hkdf(secret, HKDF_INFO_KEY_ID, 4);
  const key = await hkdf(secret, HKDF_INFO_KEY, 32);
  const version = options.version ?? 1;
  const extra = options.extraHeader ?? new Uint8Array();
  const body = typeof options.body === "string" ? encoder.encode(options.body) : options.body;
  const header = new Uint8Array(28 + extra.length);
  const view = new DataView(header.buffer);
  header.set(options.id ?? new Uint8Array(16).fill(7), 0);
  view.setUint32(16, options.issuedAt ?? NOW);
  view.setUint32(20, options.expiresAt ?? NOW + 3600);
  view.setUint32(24, options.idleExpiresAt ?? 0);
  header.set(extra, 28);
  const plaintext = new Uint8Array([options.headerLength ?? header.length, ...header, ...body]);
  const nonce = crypto.getRandomValues(new Uint8Array(24));
  const aad = new Uint8Array([
    version,
    ...keyId,
    ...encoder.encode(options.cookieName ?? "session"),
  ]);
  const sealed = await xaes256gcmWebCrypto.encrypt(key, nonce, plaintext, aad);
  return toBase64Url(new Uint8Array([version, ...keyId, ...nonce, ...sealed]));
}

const sealer = await createSealer({ secrets: [SECRET] });
/** A sealer over node:crypto, which opens at once (`openNow()`) and throws. */
const coreNode = await createSealer({ secrets: [SECRET], backend: "node" });

Deno.test("Sealer.open() returns every JSON object that Sealer.seal() sealed", async (t) => {
  const key = fc.oneof(
    fc.string(),
    fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty", ""),
  );
  const data = fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 });
  const flash = fc.option(fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), {
    nil: undefined,
  });

  await t.step("data and flash come back as their JSON round trip", async () => {
    await fc.assert(
      fc.asyncProperty(data, flash, async (d, f) => {
        const value = await sealer.seal(record(d, { flash: f }), "session");
        const opened = await sealer.open(value, "session", NOW);
        // Compared as JSON text (exact, order included): Deno 2.5's node:assert mis-compares
        // objects with an own "constructor" key.
        assert.equal(JSON.stringify(opened.data), JSON.stringify(d));
        const flashBack = f && Object.keys(f).length > 0 ? JSON.stringify(f) : undefined;
        assert.equal(opened.flash && JSON.stringify(opened.flash), flashBack);
        assert.equal(opened.keyIndex, 0);
        assert.equal(opened.body, JSON.stringify(opened.flash ? [d, f] : d));
      }),
      { numRuns: 150 },
    );
  });

  await t.step("the id and the three times come back exactly", async () => {
    const id = crypto.getRandomValues(new Uint8Array(16));
    const value = await sealer.seal(
      record({ a: 1 }, { id, issuedAt: NOW - 5, expiresAt: NOW + 77, idleExpiresAt: NOW + 11 }),
      "session",
    );
    const opened = await sealer.open(value, "session", NOW);
    assert.deepEqual(opened.id, id);
    assert.equal(opened.issuedAt, NOW - 5);
    assert.equal(opened.expiresAt, NOW + 77);
    assert.equal(opened.idleExpiresAt, NOW + 11);
  });

  await t.step("-0 comes back as 0, as JSON has no negative zero", async () => {
    const opened = await sealer.open(await sealer.seal(record({ z: -0 }), "s"), "s", NOW);
    assert.ok(Object.is(opened.data.z, 0));
  });

  await t.step("a __proto__ key comes back as an own key, never as the prototype", async () => {
    const data = JSON.parse('{"__proto__":{"admin":true},"n":1}');
    const opened = await sealer.open(await sealer.seal(record(data), "s"), "s", NOW);
    assert.ok(Object.hasOwn(opened.data, "__proto__"));
    assert.equal(Object.getPrototypeOf(opened.data), Object.prototype);
    assert.equal((opened.data as { admin?: unknown }).admin, undefined);
    assert.deepEqual(Object.keys(opened.data), ["__proto__", "n"]);
  });

  await t.step("two seals of the same record differ (a fresh random nonce each time)", async () => {
    const r = record({ a: 1 });
    assert.notEqual(await sealer.seal(r, "session"), await sealer.seal(r, "session"));
  });
});

Deno.test("Sealer.seal() fits a name and a last name in at most 160 characters", async () => {
  const value = await sealer.seal(record({ name: "Ada", lastname: "Lovelace" }), "session");
  assert.ok(value.length <= 160, `${value.length} characters`);
  assert.match(value, /^[A-Za-z0-9_-]+$/);
});

Deno.test("Sealer.open() refuses every changed character of a sealed value", async () => {
  const value = await sealer.seal(record({ name: "Ada", lastname: "Lovelace" }), "session");
  const reasons = new Set<InvalidReason>();
  for (let i = 0; i < value.length; i++) {
    for (const c of ALPHABET) {
      if (c === value[i]) continue;
      const changed = value.slice(0, i) + c + value.slice(i + 1);
      reasons.add(await invalidReason(sealer.open(changed, "session", NOW)));
    }
  }
  // The version, key id and tag each catch some of the changes.
  assert.deepEqual([...reasons].sort(), ["forged", "malformed", "unknown-key"]);
});

Deno.test("Sealer.open() refuses every flipped byte of a sealed value", async () => {
  const value = await sealer.seal(record({ name: "Ada" }), "session");
  const bytes = fromBase64Url(value);
  assert.equal(toBase64Url(bytes), value);
  for (let i = 0; i < bytes.length; i++) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const flipped = bytes.slice();
      flipped[i]! ^= mask;
      const reason = await invalidReason(sealer.open(toBase64Url(flipped), "session", NOW));
      const expected = i === 0 ? "malformed" : i <= 4 ? "unknown-key" : "forged";
      assert.equal(reason, expected, `byte ${i} ^ ${mask}`);
    }
  }
});

Deno.test("Sealer.open() refuses a sealed value truncated at every length, or extended", async () => {
  const value = await sealer.seal(record({ name: "Ada" }), "session");
  for (let n = 0; n < value.length; n++) {
    await invalidReason(sealer.open(value.slice(0, n), "session", NOW));
  }
  for (const tail of ["A", "AA", "AAA", "AAAA", "=", "==", " "]) {
    await invalidReason(sealer.open(value + tail, "session", NOW));
  }
  await invalidReason(sealer.open(` ${value}`, "session", NOW));
});

Deno.test("Sealer.open() refuses garbage with the invalid-session error and no other", async (t) => {
  const keyId = await hkdf(SECRET, HKDF_INFO_KEY_ID, 4);
  const cases = {
    "any string": fc.string({ maxLength: 300 }),
    "any Unicode string": fc.string({ unit: "grapheme", maxLength: 200 }),
    "base64url text of a plausible length": fc.stringMatching(/^[A-Za-z0-9_-]{90,200}$/),
    "random bytes under the right version and key id": fc
      .uint8Array({ minLength: 0, maxLength: 200 })
      .map((rest) => toBase64Url(new Uint8Array([1, ...keyId, ...rest]))),
  };
  for (const [name, arbitrary] of Object.entries(cases)) {
    await t.step(name, async () => {
      await fc.assert(
        fc.asyncProperty(arbitrary, async (garbage) => {
          await invalidReason(sealer.open(garbage, "session", NOW));
          assert.throws(() => coreNode.openNow(garbage, "session", NOW), InvalidSessionError);
        }),
        { numRuns: 150 },
      );
    });
  }
});

Deno.test("Sealer.open() refuses a value sealed under a secret it does not know", async () => {
  const other = await createSealer({ secrets: [OTHER] });
  const value = await other.seal(record({ a: 1 }), "session");
  assert.equal(await invalidReason(sealer.open(value, "session", NOW)), "unknown-key");
  assert.equal((await other.open(value, "session", NOW)).data.a, 1);
});

Deno.test("Sealer.open() refuses a value sealed under another cookie name", async () => {
  const value = await sealer.seal(record({ a: 1 }), "session");
  assert.equal(await invalidReason(sealer.open(value, "other", NOW)), "forged");
  assert.equal(await invalidReason(sealer.open(value, "sealed.0", NOW)), "forged");
  assert.equal(await invalidReason(sealer.open(value, "__Host-sealed", NOW)), "forged");
  assert.equal((await sealer.open(value, "session", NOW)).data.a, 1);
});

Deno.test("Sealer.open() refuses expired values at the given time", async (t) => {
  await t.step("past the absolute lifetime", async () => {
    const value = await sealer.seal(record({ a: 1 }, { expiresAt: NOW + 10 }), "session");
    assert.equal((await sealer.open(value, "session", NOW + 9.999)).data.a, 1);
    assert.equal(await invalidReason(sealer.open(value, "session", NOW + 10)), "expired");
    assert.equal(await invalidReason(sealer.open(value, "session", NOW + 1e6)), "expired");
  });
  await t.step("past the idle deadline, even well before the absolute one", async () => {
    const value = await sealer.seal(
      record({ a: 1 }, { expiresAt: NOW + 1000, idleExpiresAt: NOW + 5 }),
      "session",
    );
    assert.equal((await sealer.open(value, "session", NOW + 4.5)).data.a, 1);
    assert.equal(await invalidReason(sealer.open(value, "session", NOW + 5)), "expired");
  });
  await t.step("an idle deadline of 0 means no idle timeout", async () => {
    const value = await sealer.seal(record({ a: 1 }, { expiresAt: NOW + 1000 }), "session");
    assert.equal((await sealer.open(value, "session", NOW + 999)).data.a, 1);
  });
  await t.step("the current time is the default", async () => {
    const now = Math.floor(Date.now() / 1000);
    const past = await sealer.seal(
      record({ a: 1 }, { issuedAt: now - 100, expiresAt: now - 1 }),
      "session",
    );
    assert.equal(await invalidReason(sealer.open(past, "session")), "expired");
    const fresh = await sealer.seal(
      record({ a: 1 }, { issuedAt: now, expiresAt: now + 100 }),
      "session",
    );
    assert.equal((await sealer.open(fresh, "session")).data.a, 1);
  });
});

Deno.test(
  "the node:crypto and Web Crypto sealers open what the other sealed",
  async () => {
    const node = await createSealer({ secrets: [SECRET], backend: "node" });
    const web = await createSealer({ secrets: [SECRET], backend: "webcrypto" });
    assert.equal(node.sync, true);
    assert.equal(web.sync, false);
    const r = record({ name: "Ada", list: [1, 2, 3] }, { flash: { notice: "hi" } });
    for (const [from, to] of [[node, web], [web, node]] as const) {
      const opened = await to.open(await from.seal(r, "session"), "session", NOW);
      assert.deepEqual(opened.data, r.data);
      assert.deepEqual(opened.flash, r.flash);
      assert.deepEqual(opened.id, r.id);
    }
    const syncOpened = node.openNow(await web.seal(r, "session"), "session", NOW);
    assert.deepEqual(syncOpened.data, r.data);
    const forged = (await web.seal(r, "session")).slice(0, -2) + "AA";
    assert.equal(await invalidReason(web.open(forged, "session", NOW)), "forged");
    assert.throws(() => node.openNow(forged, "session", NOW), InvalidSessionError);
    // Web Crypto never answers at once.
    const opening = web.open(await node.seal(r, "session"), "session", NOW);
    assert.ok(opening instanceof Promise);
    assert.deepEqual((await opening).data, r.data);
    const sealing = web.seal(r, "session");
    assert.ok(sealing instanceof Promise);
    await sealing;
  },
);

Deno.test("Sealer rotation: the first secret seals, every secret opens", async (t) => {
  const oldOnly = await createSealer({ secrets: [OTHER] });
  const rotated = await createSealer({ secrets: [SECRET, OTHER] });
  const newOnly = await createSealer({ secrets: [SECRET] });
  const sealedOld = await oldOnly.seal(record({ a: "old" }), "session");

  await t.step(
    "a sealer with [new, old] opens a value sealed with [old], at key index 1",
    async () => {
      const opened = await rotated.open(sealedOld, "session", NOW);
      assert.equal(opened.data.a, "old");
      assert.equal(opened.keyIndex, 1);
    },
  );
  await t.step("a sealer with [new, old] seals under new, at key index 0", async () => {
    const value = await rotated.seal(record({ a: "new" }), "session");
    assert.equal((await newOnly.open(value, "session", NOW)).keyIndex, 0);
    assert.equal((await rotated.open(value, "session", NOW)).keyIndex, 0);
    assert.equal(await invalidReason(oldOnly.open(value, "session", NOW)), "unknown-key");
  });
  await t.step("a sealer with only [new] refuses the old value as unknown-key", async () => {
    assert.equal(await invalidReason(newOnly.open(sealedOld, "session", NOW)), "unknown-key");
  });
  await t.step("byte secrets work like text secrets of the same bytes", async () => {
    const bytes = await createSealer({ secrets: [encoder.encode(OTHER)] });
    assert.equal((await bytes.open(sealedOld, "session", NOW)).data.a, "old");
  });
});

Deno.test("createSealer() refuses bad secrets at set-up, naming the option", async (t) => {
  const configError = async (secrets: unknown[], option: string) => {
    let caught: unknown;
    await assert.rejects(
      createSealer({ secrets: secrets as string[] }),
      (error: unknown) => (caught = error, true),
    );
    assert.ok(caught instanceof SessionConfigError, String(caught));
    assert.equal(caught.code, "ERR_SESSION_CONFIG");
    assert.equal(caught.option, option);
    assert.ok(caught.message.includes(`"${option}"`), caught.message);
  };
  await t.step("a secret shorter than 32 bytes names secrets[0]", async () => {
    await configError(["short"], "secrets[0]");
    await configError(["x".repeat(31)], "secrets[0]");
    await configError([new Uint8Array(31)], "secrets[0]");
  });
  await t.step("a short second secret names secrets[1]", async () => {
    await configError([SECRET, "too short"], "secrets[1]");
  });
  await t.step("exactly 32 bytes is enough, counted in UTF-8 bytes", async () => {
    await createSealer({ secrets: ["x".repeat(32)] });
    await createSealer({ secrets: [new Uint8Array(32)] });
    await createSealer({ secrets: ["é".repeat(16)] });
    await configError(["é".repeat(15)], "secrets[0]");
  });
  await t.step("no secret at all names secrets", async () => {
    await configError([], "secrets");
  });
  await t.step("a secret that is not text or bytes is refused", async () => {
    await configError([42], "secrets[0]");
  });
  await t.step("two identical secrets are refused", async () => {
    await configError([SECRET, SECRET], "secrets[1]");
    await configError([OTHER, SECRET, encoder.encode(SECRET)], "secrets[2]");
  });
});

Deno.test("Sealer.open() reads a value whose header is longer than version 1's", async (t) => {
  const id = crypto.getRandomValues(new Uint8Array(16));
  const times = { issuedAt: NOW - 1, expiresAt: NOW + 100, idleExpiresAt: NOW + 50 };

  await t.step("a hand-made version 1 value opens (the layout is as documented)", async () => {
    const value = await sealByHand(SECRET, { id, ...times, body: '{"a":1}' });
    const opened = await sealer.open(value, "session", NOW);
    assert.deepEqual(opened.data, { a: 1 });
    assert.deepEqual(opened.id, id);
    assert.equal(opened.idleExpiresAt, NOW + 50);
  });
  // The fields of today's header after version 1's: flags, milliseconds, sealing time, and a
  // subject of no bytes; then what a later version may append.
  const current = [0, 0, 0, 0, 0, 0, 0, 0];
  for (const extra of [0, 1, 8, 200]) {
    await t.step(`${extra} header bytes after the current fields are skipped`, async () => {
      const later = crypto.getRandomValues(new Uint8Array(extra));
      const extraHeader = new Uint8Array([...current, ...later]);
      const value = await sealByHand(SECRET, { id, ...times, extraHeader, body: '{"a":[1,2]}' });
      const opened = await sealer.open(value, "session", NOW);
      assert.deepEqual(opened.data, { a: [1, 2] });
      assert.deepEqual(opened.id, id);
      assert.equal(opened.issuedAt, NOW - 1);
      assert.equal(opened.expiresAt, NOW + 100);
      assert.equal(opened.idleExpiresAt, NOW + 50);
      assert.equal(await invalidReason(sealer.open(value, "session", NOW + 50)), "expired");
    });
  }
  await t.step("a start time after the subject is read, to the millisecond", async () => {
    const started = new Uint8Array(6);
    new DataView(started.buffer).setUint32(0, NOW - 100);
    new DataView(started.buffer).setUint16(4, 250);
    const extraHeader = new Uint8Array([...current, ...started]);
    const value = await sealByHand(SECRET, { id, ...times, extraHeader, body: "{}" });
    assert.equal((await sealer.open(value, "session", NOW)).startedAt, NOW - 100 + 0.25);
  });
  await t.step("a start time after the issue reads as the issue", async () => {
    const started = new Uint8Array(6);
    new DataView(started.buffer).setUint32(0, NOW + 10);
    const extraHeader = new Uint8Array([...current, ...started]);
    const value = await sealByHand(SECRET, { id, ...times, extraHeader, body: "{}" });
    assert.equal((await sealer.open(value, "session", NOW)).startedAt, NOW - 1);
  });
  await t.step("flash values sealed by hand come back", async () => {
    const value = await sealByHand(SECRET, { body: '[{"a":1},{"notice":"saved"}]' });
    const opened = await sealer.open(value, "session", NOW);
    assert.deepEqual(opened.data, { a: 1 });
    assert.deepEqual(opened.flash, { notice: "saved" });
  });
});

Deno.test("Sealer keeps a start before the issue time, and writes none otherwise", async () => {
  const record = {
    id: new Uint8Array(16).fill(3),
    issuedAt: NOW + 0.5,
    expiresAt: NOW + 100,
    idleExpiresAt: 0,
    data: { a: 1 },
  };
  const plain = await sealer.seal(record, "session", '{"a":1}');
  assert.equal((await sealer.open(plain, "session", NOW)).startedAt, NOW + 0.5);
  const regenerated = await sealer.seal(
    { ...record, startedAt: NOW - 3600.125 },
    "session",
    '{"a":1}',
  );
  assert.equal((await sealer.open(regenerated, "session", NOW)).startedAt, NOW - 3600.125);
  // Six bytes more, only when the start is sealed.
  assert.equal(regenerated.length - plain.length, 8);
  const same = await sealer.seal({ ...record, startedAt: NOW + 0.5 }, "session", '{"a":1}');
  assert.equal(same.length, plain.length);
});

Deno.test("Sealer keeps a session's handle, after a start time that is then always written", async () => {
  const handle = new Uint8Array(8).fill(9);
  const record = {
    id: new Uint8Array(16).fill(3),
    issuedAt: NOW + 0.5,
    expiresAt: NOW + 100,
    idleExpiresAt: 0,
    data: {},
    subject: "ada",
  };
  const plain = await sealer.seal(record, "session", "{}");
  const withHandle = await sealer.seal({ ...record, handle }, "session", "{}");
  const opened = await sealer.open(withHandle, "session", NOW);
  assert.deepEqual(opened.handle, handle);
  assert.equal(opened.startedAt, NOW + 0.5);
  assert.equal((await sealer.open(plain, "session", NOW)).handle, undefined);
  // The start time and the handle: 14 bytes more, 19 characters.
  assert.equal(withHandle.length - plain.length, 19);
  const regenerated = await sealer.open(
    await sealer.seal({ ...record, handle, startedAt: NOW - 10 }, "session", "{}"),
    "session",
    NOW,
  );
  assert.deepEqual([regenerated.startedAt, regenerated.handle], [NOW - 10, handle]);
  await assert.rejects(
    sealer.seal({ ...record, handle: new Uint8Array(7) }, "session"),
    RangeError,
  );
});

Deno.test("Sealer.open() refuses authentic values that break the layout as malformed", async (t) => {
  const cases: Record<string, Handmade> = {
    "another format version": { version: 2, body: '{"a":1}' },
    "a header shorter than version 1's": { headerLength: 27, body: '{"a":1}' },
    "a header length beyond the plaintext": { headerLength: 255, body: '{"a":1}' },
    "an empty body": { body: "" },
    "a body that is not JSON": { body: "{a:1}" },
    "a body that is not UTF-8": { body: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d, 0x20]) },
    "a JSON array": { body: "[1,2,3]" },
    "a JSON string": { body: '"just text"' },
    "JSON null": { body: "null" },
    "flash values that are not an object": { body: '[{"a":1},"flash"]' },
    "data that is not an object beside flash values": { body: '[[1],{"a":1}]' },
  };
  for (const [name, options] of Object.entries(cases)) {
    await t.step(name, async () => {
      const value = await sealByHand(SECRET, options);
      assert.equal(await invalidReason(sealer.open(value, "session", NOW)), "malformed");
    });
  }
  await t.step("an expired value is refused as expired before its body is read", async () => {
    const value = await sealByHand(SECRET, { expiresAt: NOW - 1, body: "{}" });
    assert.equal(await invalidReason(sealer.open(value, "session", NOW)), "expired");
  });
});

Deno.test("Sealer.seal() refuses records it cannot write faithfully", async (t) => {
  await t.step("a bigint is a TypeError", async () => {
    await assert.rejects(sealer.seal(record({ n: 1n }), "session"), TypeError);
  });
  await t.step("a cycle is a TypeError", async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(sealer.seal(record(cyclic), "session"), TypeError);
  });
  await t.step("a bigint in a flash value is a TypeError", async () => {
    await assert.rejects(sealer.seal(record({}, { flash: { n: 2n } }), "session"), TypeError);
  });
  await t.step(
    "a time outside unsigned 32-bit Unix seconds is a RangeError, not wrapped",
    async () => {
      for (const field of ["issuedAt", "expiresAt", "idleExpiresAt"] as const) {
        for (const time of [2 ** 32, NOW + 2 ** 32, -1, NaN]) {
          await assert.rejects(sealer.seal(record({}, { [field]: time }), "session"), RangeError);
        }
      }
      const last = await sealer.seal(record({ a: 1 }, { expiresAt: 2 ** 32 - 1 }), "session");
      assert.equal((await sealer.open(last, "session", NOW)).expiresAt, 2 ** 32 - 1);
    },
  );
  await t.step("an id that is not 16 bytes is a RangeError", async () => {
    await assert.rejects(
      sealer.seal(record({}, { id: new Uint8Array(15) }), "session"),
      RangeError,
    );
  });
});

Deno.test("Sealer over Web Crypto refuses what it cannot seal or open with a rejection, never a throw", async () => {
  const web = await createSealer({ secrets: [SECRET], backend: "webcrypto" });
  assert.equal(await invalidReason(web.open("not a sealed value", "session", NOW)), "malformed");
  const foreign = await (await createSealer({ secrets: [OTHER] })).seal(record({}), "session");
  assert.equal(await invalidReason(web.open(foreign, "session", NOW)), "unknown-key");
  const expired = await web.seal(record({}, { expiresAt: NOW }), "session");
  assert.equal(await invalidReason(web.open(expired, "session", NOW)), "expired");
  const badId = web.seal(record({}, { id: new Uint8Array(15) }), "session");
  assert.ok(badId instanceof Promise);
  await assert.rejects(badId, RangeError);
  const bigint = web.seal(record({ n: 1n }), "session");
  assert.ok(bigint instanceof Promise);
  await assert.rejects(bigint, TypeError);
});

Deno.test("createSealer() of ./seal answers with promises on the node:crypto backend too", async () => {
  const wrapped = await createSealer({ secrets: [SECRET], backend: "node" });
  const sealing = wrapped.seal(record({ name: "Ada" }), "session");
  assert.ok(sealing instanceof Promise);
  const value = await sealing;
  // The same sealer opens it at once where the cipher allows.
  assert.equal(wrapped.openNow(value, "session", NOW).data.name, "Ada");
  assert.equal((await wrapped.open(value, "session", NOW)).data.name, "Ada");
  assert.equal(
    await invalidReason(wrapped.open("not a sealed value", "session", NOW)),
    "malformed",
  );
  const bigint = wrapped.seal(record({ n: 1n }), "session");
  assert.ok(bigint instanceof Promise);
  await assert.rejects(bigint, TypeError);
});
