/**
 * Finds `node:crypto` synchronously, without a top-level `await`: `process.getBuiltinModule`
 * (Deno 2, Node 20.16+, Bun) returns the built-in at once, so modules that use it load in one
 * step and the start of a server waits for no promise. Runtimes without it get `undefined`
 * and the callers fall back to Web Crypto.
 *
 * Deno from 2.9 loads its Node built-ins only when first used, and the first use of
 * `process`, `Buffer` or `node:crypto` then costs tens of milliseconds (measured in
 * `bench/README.md`, cold start): more than a whole bare Hono app takes to start. There,
 * {@linkcode nodeCryptoIsCheap} says no until something has looked the module up, so that the
 * start of a server can do without it, and {@linkcode nodeBuffer} gives `Buffer` only once the
 * built-ins are loaded anyway.
 *
 * The lookup's memoised answer is the only module-level state of the session's cryptography:
 * keys, keyrings and their caches belong to the sealer that made them.
 *
 * @module
 */

/** The `node:crypto` module's type. */
export type NodeCrypto = typeof import("node:crypto");

type BuiltinLoader = { getBuiltinModule?: (id: string) => unknown };

/** The part of Node's `Buffer` the byte codecs use. */
export interface NodeBuffer {
  /** A view of `length` bytes of `data` from `offset`, without a copy. */
  from(data: ArrayBuffer, offset: number, length: number): {
    toString(encoding: "utf8" | "base64url"): string;
  };
  /** The bytes of `text` in `encoding`. */
  from(text: string, encoding: "utf8" | "base64url"): Uint8Array;
}

/** The lookup's answer: the module, `null` where there is none, `undefined` before the first. */
let found: NodeCrypto | null | undefined;
/** `Buffer`, looked up once `node:crypto` was found; `null` where there is none. */
let buffer: NodeBuffer | null | undefined;

/** The running Deno's major and minor version, or `undefined` on other runtimes. */
export const DENO_VERSION: readonly [number, number] | undefined = (() => {
  const version = (globalThis as { Deno?: { version?: { deno?: string } } }).Deno?.version?.deno;
  if (!version) return undefined;
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return [major, minor];
})();

/** True where Node built-ins are loaded on first use, at a cost (Deno 2.9 and later). */
const BUILTINS_LOAD_LAZILY = DENO_VERSION !== undefined &&
  (DENO_VERSION[0] > 2 || (DENO_VERSION[0] === 2 && DENO_VERSION[1] >= 9));

/**
 * The `node:crypto` module of this runtime, looked up on the first call and remembered. On
 * Deno 2.9 and later the first call loads Node's built-ins, tens of milliseconds.
 *
 * @returns The module, or `undefined` where the runtime offers no synchronous way to it.
 *
 * @example Finding node:crypto where the runtime has it
 * ```ts
 * import assert from "node:assert/strict";
 * import { nodeCrypto } from "./node_crypto.ts";
 *
 * // Deno, Node and Bun have it.
 * assert.equal(typeof nodeCrypto()?.createCipheriv, "function");
 * ```
 */
export function nodeCrypto(): NodeCrypto | undefined {
  if (found === undefined) found = lookup() ?? null;
  return found ?? undefined;
}

/**
 * Tells whether {@linkcode nodeCrypto} costs nothing worth counting now: it was looked up
 * already, or this runtime loads its Node built-ins up front (everything but Deno 2.9+).
 *
 * @returns `true` when calling {@linkcode nodeCrypto} now is cheap.
 *
 * @example Cheap once looked up
 * ```ts
 * import assert from "node:assert/strict";
 * import { nodeCrypto, nodeCryptoIsCheap } from "./node_crypto.ts";
 *
 * nodeCrypto();
 * assert.equal(nodeCryptoIsCheap(), true);
 * ```
 */
export function nodeCryptoIsCheap(): boolean {
  return found !== undefined || !BUILTINS_LOAD_LAZILY;
}

/**
 * Tells whether `node:crypto` is available, without loading it where that is costly: Deno
 * 2.9+ always has it.
 *
 * @returns `true` when {@linkcode nodeCrypto} returns the module.
 *
 * @example Available without loading it
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasNodeCryptoModule, nodeCrypto } from "./node_crypto.ts";
 *
 * const available = hasNodeCryptoModule(); // asked first: nothing is loaded for the answer
 * assert.equal(available, nodeCrypto() !== undefined);
 * ```
 */
export function hasNodeCryptoModule(): boolean {
  return BUILTINS_LOAD_LAZILY && found === undefined ? true : nodeCrypto() !== undefined;
}

/**
 * Node's `Buffer`, once it costs nothing more: after {@linkcode nodeCrypto} has found the
 * module (on Deno 2.9+, touching `Buffer` first would load the Node built-ins, which the start
 * of a server does without), or at once where built-ins load up front. Its UTF-8 and base64url
 * codecs are faster than `TextEncoder` and a JavaScript loop for cookie-sized values.
 *
 * @returns `Buffer`, or `undefined` while it would cost a load, or where there is none.
 *
 * @example Buffer once node:crypto is found
 * ```ts
 * import assert from "node:assert/strict";
 * import { nodeBuffer, nodeCrypto } from "./node_crypto.ts";
 *
 * nodeCrypto();
 * assert.equal(nodeBuffer()?.from("héllo", "utf8").length, 6);
 * ```
 */
export function nodeBuffer(): NodeBuffer | undefined {
  if (buffer !== undefined) return buffer ?? undefined;
  // Not remembered while it would cost a load: it may be cheap later.
  if (!nodeCryptoIsCheap()) return undefined;
  buffer = (nodeCrypto() && (globalThis as { Buffer?: NodeBuffer }).Buffer) || null;
  return buffer ?? undefined;
}

function lookup(): NodeCrypto | undefined {
  try {
    const process = (globalThis as { process?: BuiltinLoader }).process;
    const module = process?.getBuiltinModule?.("node:crypto") as Partial<NodeCrypto> | undefined;
    return typeof module?.createCipheriv === "function" && typeof module.hkdfSync === "function"
      ? module as NodeCrypto
      : undefined;
  } catch {
    // A runtime that refuses the lookup (a sandbox, a permission) has no usable node:crypto.
    return undefined;
  }
}
