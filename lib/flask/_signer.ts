/**
 * itsdangerous' signer as Flask configures it: `key_derivation="hmac"`, SHA-1, salt
 * `cookie-session`. The HMAC key is HMAC-SHA1(secret, "cookie-session"); the signature is
 * HMAC-SHA1(derived key, signed message).
 *
 * Two backends with identical results: synchronous `node:crypto` where it exists (no
 * `crypto.subtle` round trip per HMAC), else Web Crypto, so the library still loads on
 * runtimes without `node:` modules.
 *
 * @module
 */

import { lazyBuiltin } from "./_node_builtin.ts";

/** A Flask secret key: text (used as UTF-8) or raw bytes. */
export type FlaskSecret = string | Uint8Array;

/** A derived HMAC key: raw bytes for `node:crypto`, a `CryptoKey` for Web Crypto. */
export type DerivedKey = Uint8Array | CryptoKey;

/** Which implementation derives the keys; `auto` picks `node` where `node:crypto` exists. */
export type SignerBackend = "auto" | "node" | "webcrypto";

type NodeCrypto = typeof import("node:crypto");

// Found on first use, synchronously, so that the library still loads on runtimes without
// `node:` modules and importing it loads nothing.
const nodeCrypto = lazyBuiltin<NodeCrypto>(
  "node:crypto",
  (m) => typeof m.createHmac === "function" && typeof m.timingSafeEqual === "function",
);

const SALT = new TextEncoder().encode("cookie-session");
const encoder = new TextEncoder();

interface CacheEntry {
  /** What the keys were derived from, to notice an array or byte array changed in place. */
  sources: FlaskSecret[];
  keys: Promise<readonly DerivedKey[]>;
}

// Keyed by the secretKeys array, which a middleware keeps while it spreads a new `now` into a
// fresh options object on each request.
const caches = {
  node: new WeakMap<readonly FlaskSecret[], CacheEntry>(),
  webcrypto: new WeakMap<readonly FlaskSecret[], CacheEntry>(),
};

function sameSecret(a: FlaskSecret, b: FlaskSecret): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function secretBytes(secret: FlaskSecret): Uint8Array<ArrayBuffer> {
  return typeof secret === "string" ? encoder.encode(secret) : new Uint8Array(secret);
}

function importHmacKey(bytes: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-1" }, false, [
    "sign",
    "verify",
  ]);
}

async function deriveKey(secret: FlaskSecret, backend: "node" | "webcrypto"): Promise<DerivedKey> {
  if (backend === "node") {
    return new Uint8Array(
      nodeCrypto()!.createHmac("sha1", secretBytes(secret)).update(SALT).digest(),
    );
  }
  const derived = await crypto.subtle.sign("HMAC", await importHmacKey(secretBytes(secret)), SALT);
  return importHmacKey(new Uint8Array(derived));
}

/**
 * Derives the HMAC keys of Flask secret keys, once per `secretKeys` array and backend.
 *
 * @param secretKeys Validated secret keys: non-empty, strings well-formed UTF-16.
 * @param backend The implementation.
 * @returns One key per secret, in the same order.
 * @throws {Error} When `backend` is `node` and `node:crypto` is not available.
 *
 * @example Deriving and using the tutorial key
 * ```ts
 * import assert from "node:assert/strict";
 * import { derivedKeys, sign } from "./_signer.ts";
 *
 * const [key] = await derivedKeys(["tutorial-secret-key"]);
 * const mac = await sign(key!, "eyJsYXN0bmFtZSI6IkxvdmVsYWNlIiwibmFtZSI6IkFkYSJ9.ZVPxAA");
 * assert.equal(mac.length, 20);
 * ```
 */
export function derivedKeys(
  secretKeys: readonly FlaskSecret[],
  backend: SignerBackend = "auto",
): Promise<readonly DerivedKey[]> {
  const chosen = backend === "auto" ? (nodeCrypto() ? "node" : "webcrypto") : backend;
  if (chosen === "node" && !nodeCrypto()) {
    throw new Error("Cannot use the node backend: node:crypto is not available in this runtime");
  }
  const cache = caches[chosen];
  const cached = cache.get(secretKeys);
  if (
    cached !== undefined && cached.sources.length === secretKeys.length &&
    cached.sources.every((source, i) => sameSecret(source, secretKeys[i]!))
  ) {
    return cached.keys;
  }
  const keys = Promise.all(secretKeys.map((secret) => deriveKey(secret, chosen)));
  // A failed derivation is not remembered.
  keys.catch(() => {
    if (cache.get(secretKeys)?.keys === keys) cache.delete(secretKeys);
  });
  cache.set(secretKeys, {
    sources: secretKeys.map((s) => typeof s === "string" ? s : s.slice()),
    keys,
  });
  return keys;
}

/**
 * Signs a message with a derived key.
 *
 * @param key A key from {@linkcode derivedKeys}.
 * @param message The signed message (ASCII: payload and timestamp segments).
 * @returns The 20-byte HMAC-SHA1.
 *
 * @example Signing with either backend gives the same bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { derivedKeys, sign } from "./_signer.ts";
 *
 * const [node] = await derivedKeys(["secret"], "node");
 * const [web] = await derivedKeys(["secret"], "webcrypto");
 * assert.equal((await sign(node!, "m")).join(), (await sign(web!, "m")).join());
 * ```
 */
export async function sign(key: DerivedKey, message: string): Promise<Uint8Array> {
  if (key instanceof Uint8Array) {
    return new Uint8Array(nodeCrypto()!.createHmac("sha1", key).update(message).digest());
  }
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

/**
 * Checks a signature against every key, each comparison in constant time.
 *
 * @param keys Keys from {@linkcode derivedKeys}.
 * @param message The signed message.
 * @param signature The decoded signature.
 * @returns Whether one of the keys made it.
 *
 * @example Verifying with a fallback key
 * ```ts
 * import assert from "node:assert/strict";
 * import { derivedKeys, sign, verify } from "./_signer.ts";
 *
 * const [current, old] = await derivedKeys(["new-key", "old-key"]);
 * assert.ok(await verify([current!, old!], "m", await sign(old!, "m")));
 * assert.equal(await verify([current!], "m", await sign(old!, "m")), false);
 * ```
 */
export async function verify(
  keys: readonly DerivedKey[],
  message: string,
  signature: Uint8Array,
): Promise<boolean> {
  if (signature.length !== 20) return false;
  // Every key is tried, so the time taken does not tell which key matched.
  if (keys.every((key) => key instanceof Uint8Array)) {
    let ok = false;
    for (const key of keys) {
      const mac = nodeCrypto()!.createHmac("sha1", key).update(message).digest();
      ok = nodeCrypto()!.timingSafeEqual(mac, signature) || ok;
    }
    return ok;
  }
  const data = encoder.encode(message);
  const results = await Promise.all(
    keys.map((key) =>
      crypto.subtle.verify("HMAC", key as CryptoKey, new Uint8Array(signature), data)
    ),
  );
  return results.includes(true);
}
