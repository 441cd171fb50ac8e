/**
 * Sealing a small session payload: our XAES-256-GCM sealer (sync `node:crypto` path and async
 * Web Crypto backend) against raw AES-256-GCM through Web Crypto, `iron-webcrypto` (iron-session,
 * hono-sessions) and a `jose` compact JWE `dir` + `A256GCM` (@hono/session).
 *
 * Every contender seals the same 36-byte JSON `{"name":"Ada","lastname":"Lovelace"}`. Key
 * derivation and key import happen once, at module load; each measured function seals and/or
 * opens real values and keeps its result alive in `sink`.
 *
 * Run: `deno bench --allow-env --allow-read bench/seal_bench.ts`
 *
 * @module
 */

import * as iron from "iron-webcrypto";
import { compactDecrypt, CompactEncrypt } from "jose";
import { createCachingSealer, createSealer, type SessionRecord } from "../lib/sealing/sealer.ts";

const PAYLOAD = { name: "Ada", lastname: "Lovelace" } as const;
const PAYLOAD_JSON = JSON.stringify(PAYLOAD);
if (new TextEncoder().encode(PAYLOAD_JSON).length !== 36) throw new Error("payload is not 36 B");

const COOKIE = "session";
const SECRET = "bench secret: at least thirty-two bytes long, honest";

/** Results land here so that no measured work can be optimised away. */
let sink: unknown;

function check(name: string, opened: unknown): void {
  const got = (opened as { name?: unknown } | null)?.name;
  if (got !== "Ada") throw new Error(`${name}: round trip gave name ${String(got)}`);
}

// ---------------------------------------------------------------------------------------------
// 1–2. Ours: sync node:crypto path (the middleware default) and async Web Crypto backend.

const nowSeconds = Math.floor(Date.now() / 1000);
const record: SessionRecord = {
  id: crypto.getRandomValues(new Uint8Array(16)),
  issuedAt: nowSeconds,
  expiresAt: nowSeconds + 86_400,
  idleExpiresAt: 0,
  data: { ...PAYLOAD },
};

const oursNode = await createSealer({ secrets: [SECRET], backend: "node" });
const oursWeb = await createSealer({ secrets: [SECRET], backend: "webcrypto" });
if (!oursNode.sync || oursWeb.sync) throw new Error("unexpected sealer backends");

const oursNodeSealed = await oursNode.seal(record, COOKIE);
const oursWebSealed = await oursWeb.seal(record, COOKIE);
check("ours sync", oursNode.openNow(await oursNode.seal(record, COOKIE), COOKIE).data);
check("ours webcrypto", (await oursWeb.open(await oursWeb.seal(record, COOKIE), COOKIE)).data);
// Both backends share one key and one format.
check("ours cross-backend", oursNode.openNow(oursWebSealed, COOKIE).data);

// ---------------------------------------------------------------------------------------------
// 3. Raw AES-256-GCM through Web Crypto: the floor of a naive implementation.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const rawKey = await crypto.subtle.importKey(
  "raw",
  crypto.getRandomValues(new Uint8Array(32)),
  "AES-GCM",
  false,
  ["encrypt", "decrypt"],
);
const B64 = { alphabet: "base64url", omitPadding: true } as const;

async function rawSeal(value: unknown): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv },
    rawKey,
    encoder.encode(JSON.stringify(value)),
  );
  const out = new Uint8Array(12 + ct.byteLength);
  out.set(iv, 0);
  out.set(new Uint8Array(ct), 12);
  return out.toBase64(B64);
}

async function rawOpen(value: string): Promise<unknown> {
  const bytes = Uint8Array.fromBase64(value, B64);
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.subarray(0, 12) },
    rawKey,
    bytes.subarray(12),
  );
  return JSON.parse(decoder.decode(pt));
}

const rawSealed = await rawSeal(PAYLOAD);
check("raw webcrypto", await rawOpen(await rawSeal(PAYLOAD)));

// ---------------------------------------------------------------------------------------------
// 4. iron-webcrypto v2 (`seal(object, password, options)`; no crypto argument), its defaults.

const IRON_PASSWORD = "an iron password of at least thirty-two characters";
const ironSealed = await iron.seal(PAYLOAD, IRON_PASSWORD, iron.defaults);
check(
  "iron",
  await iron.unseal(
    await iron.seal(PAYLOAD, IRON_PASSWORD, iron.defaults),
    IRON_PASSWORD,
    iron.defaults,
  ),
);

// ---------------------------------------------------------------------------------------------
// 5. jose compact JWE, `dir` + `A256GCM`, 32-byte key as a Uint8Array (as @hono/session passes
// the key it derives once with HKDF).

const joseKey = crypto.getRandomValues(new Uint8Array(32));
const JWE_HEADER = { alg: "dir", enc: "A256GCM" } as const;

function joseSeal(value: unknown): Promise<string> {
  return new CompactEncrypt(encoder.encode(JSON.stringify(value)))
    .setProtectedHeader(JWE_HEADER)
    .encrypt(joseKey);
}

async function joseOpen(value: string): Promise<unknown> {
  const { plaintext } = await compactDecrypt(value, joseKey);
  return JSON.parse(decoder.decode(plaintext));
}

const joseSealed = await joseSeal(PAYLOAD);
check("jose", await joseOpen(await joseSeal(PAYLOAD)));

// ---------------------------------------------------------------------------------------------
// Never-seen values: many visitors, each with their own cookie. Each iteration opens the next
// of a ring of distinct values sealed at start-up (fresh nonce, fresh session id each), so no
// value is opened twice in a row and nothing about one value can be reused for the next.

/** Distinct values per contender; the ring wraps, far apart. */
const RING = 20_000;
/** iron-webcrypto seals at ~0.2 ms: fewer values, its iterations are fewer too. */
const IRON_RING = 2_000;

function ring<T>(size: number, make: (i: number) => T): () => T {
  const values = Array.from({ length: size }, (_, i) => make(i));
  let next = 0;
  return () => {
    const value = values[next]!;
    next = next + 1 === size ? 0 : next + 1;
    return value;
  };
}

const fresh = (i: number): SessionRecord => ({
  ...record,
  id: crypto.getRandomValues(new Uint8Array(16)),
  data: { ...PAYLOAD, visitor: i },
});
const oursValues = await Promise.all(
  Array.from({ length: RING }, (_, i) => oursNode.seal(fresh(i), COOKIE)),
);
const nextOurs = ring(RING, (i) => oursValues[i]!);
const oursWebValues = await Promise.all(
  Array.from({ length: RING }, (_, i) => oursWeb.seal(fresh(i), COOKIE)),
);
const nextOursWeb = ring(RING, (i) => oursWebValues[i]!);
const rawValues = await Promise.all(Array.from({ length: RING }, () => rawSeal(PAYLOAD)));
const nextRaw = ring(RING, (i) => rawValues[i]!);
const ironValues = await Promise.all(
  Array.from({ length: IRON_RING }, () => iron.seal(PAYLOAD, IRON_PASSWORD, iron.defaults)),
);
const nextIron = ring(IRON_RING, (i) => ironValues[i]!);
const joseValues = await Promise.all(Array.from({ length: RING }, () => joseSeal(PAYLOAD)));
const nextJose = ring(RING, (i) => joseValues[i]!);
// Through the middleware's open cache: every value is a miss (first sight), so this is the
// cache's own cost on top of an open.
const oursCaching = await createCachingSealer({ secrets: [SECRET], backend: "node" }, 1000);

// ---------------------------------------------------------------------------------------------
// Groups.

const NAMES = {
  oursSync: "ours: XAES-256-GCM, sync node:crypto (default)",
  oursWeb: "ours: XAES-256-GCM, async Web Crypto backend",
  raw: "raw AES-256-GCM, Web Crypto",
  iron: "iron-webcrypto 2.0.0 (defaults)",
  jose: "jose 6 JWE dir+A256GCM",
} as const;

// seal
Deno.bench(NAMES.oursSync, { group: "seal" }, async () => {
  sink = await oursNode.seal(record, COOKIE);
});
Deno.bench(NAMES.oursWeb, { group: "seal" }, async () => {
  sink = await oursWeb.seal(record, COOKIE);
});
Deno.bench(NAMES.raw, { group: "seal", baseline: true }, async () => {
  sink = await rawSeal(PAYLOAD);
});
Deno.bench(NAMES.iron, { group: "seal" }, async () => {
  sink = await iron.seal(PAYLOAD, IRON_PASSWORD, iron.defaults);
});
Deno.bench(NAMES.jose, { group: "seal" }, async () => {
  sink = await joseSeal(PAYLOAD);
});

// unseal
Deno.bench(NAMES.oursSync, { group: "unseal" }, () => {
  sink = oursNode.openNow(oursNodeSealed, COOKIE).data;
});
Deno.bench(NAMES.oursWeb, { group: "unseal" }, async () => {
  sink = (await oursWeb.open(oursWebSealed, COOKIE)).data;
});
Deno.bench(NAMES.raw, { group: "unseal", baseline: true }, async () => {
  sink = await rawOpen(rawSealed);
});
Deno.bench(NAMES.iron, { group: "unseal" }, async () => {
  sink = await iron.unseal(ironSealed, IRON_PASSWORD, iron.defaults);
});
Deno.bench(NAMES.jose, { group: "unseal" }, async () => {
  sink = await joseOpen(joseSealed);
});

// open never-seen values
const NEVER_SEEN = "open never-seen values";
Deno.bench(NAMES.oursSync, { group: NEVER_SEEN }, () => {
  sink = oursNode.openNow(nextOurs(), COOKIE).data;
});
Deno.bench("ours: sync, through the open cache (each a first sight)", { group: NEVER_SEEN }, () => {
  sink = oursCaching.openNow(nextOurs(), COOKIE, nowSeconds).data;
});
Deno.bench(NAMES.oursWeb, { group: NEVER_SEEN }, async () => {
  sink = (await oursWeb.open(nextOursWeb(), COOKIE)).data;
});
Deno.bench(NAMES.raw, { group: NEVER_SEEN, baseline: true }, async () => {
  sink = await rawOpen(nextRaw());
});
Deno.bench(NAMES.iron, { group: NEVER_SEEN }, async () => {
  sink = await iron.unseal(nextIron(), IRON_PASSWORD, iron.defaults);
});
Deno.bench(NAMES.jose, { group: NEVER_SEEN }, async () => {
  sink = await joseOpen(nextJose());
});

// round trip
Deno.bench(NAMES.oursSync, { group: "round trip" }, async () => {
  sink = oursNode.openNow(await oursNode.seal(record, COOKIE), COOKIE).data;
});
Deno.bench(NAMES.oursWeb, { group: "round trip" }, async () => {
  sink = (await oursWeb.open(await oursWeb.seal(record, COOKIE), COOKIE)).data;
});
Deno.bench(NAMES.raw, { group: "round trip", baseline: true }, async () => {
  sink = await rawOpen(await rawSeal(PAYLOAD));
});
Deno.bench(NAMES.iron, { group: "round trip" }, async () => {
  sink = await iron.unseal(
    await iron.seal(PAYLOAD, IRON_PASSWORD, iron.defaults),
    IRON_PASSWORD,
    iron.defaults,
  );
});
Deno.bench(NAMES.jose, { group: "round trip" }, async () => {
  sink = await joseOpen(await joseSeal(PAYLOAD));
});

// Read the sink once the process ends, so that its stores are observable.
globalThis.addEventListener("unload", () => {
  if (sink === undefined) throw new Error("no bench ran");
});
