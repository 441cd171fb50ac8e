/**
 * Finds `node:crypto` synchronously, without a top-level `await`: `process.getBuiltinModule`
 * (Deno 2, Node 20.16+, Bun) returns the built-in at once, so modules that use it load in one
 * step and the start of a server waits for no promise. Runtimes without it get `undefined`
 * and the callers fall back to Web Crypto.
 *
 * Deno from 2.9 loads its Node built-ins only when first used, and the first use of
 * `process`, `Buffer` or `node:crypto` then costs tens of milliseconds (measured in
 * `bench/RESULTS-cold.md`): more than a whole bare Hono app takes to start. There,
 * {@linkcode nodeCryptoIsCheap} says no until something has looked the module up, so that the
 * start of a server can do without it.
 *
 * @module
 */

/** The `node:crypto` module's type. */
export type NodeCrypto = typeof import("node:crypto");

type BuiltinLoader = { getBuiltinModule?: (id: string) => unknown };

let found: NodeCrypto | null | undefined;
const listeners: (() => void)[] = [];

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
 * import { nodeCrypto } from "./_node_crypto.ts";
 *
 * const crypto = nodeCrypto();
 * if (crypto) assert.equal(typeof crypto.createCipheriv, "function");
 * ```
 */
export function nodeCrypto(): NodeCrypto | undefined {
  if (found !== undefined) return found ?? undefined;
  found = lookup() ?? null;
  if (found) { for (const listener of listeners.splice(0)) listener(); }
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
 * import { nodeCrypto, nodeCryptoIsCheap } from "./_node_crypto.ts";
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
 * import { hasNodeCryptoModule, nodeCrypto } from "./_node_crypto.ts";
 *
 * if (hasNodeCryptoModule()) assert.ok(nodeCrypto());
 * ```
 */
export function hasNodeCryptoModule(): boolean {
  return BUILTINS_LOAD_LAZILY && found === undefined ? true : nodeCrypto() !== undefined;
}

/**
 * Runs `listener` once `node:crypto` has been found: at once if it was, or when some later
 * {@linkcode nodeCrypto} call finds it (never, where it does not exist). For code that wants
 * Node built-ins such as `Buffer` as soon as they cost nothing more.
 *
 * @param listener What to run.
 *
 * @example Running code once node:crypto is found
 * ```ts
 * import assert from "node:assert/strict";
 * import { nodeCrypto, whenNodeCryptoLoaded } from "./_node_crypto.ts";
 *
 * let ran = false;
 * whenNodeCryptoLoaded(() => (ran = true));
 * const found = nodeCrypto() !== undefined;
 * assert.equal(ran, found);
 * ```
 */
export function whenNodeCryptoLoaded(listener: () => void): void {
  if (found === undefined && !BUILTINS_LOAD_LAZILY) nodeCrypto();
  if (found) listener();
  else if (found === undefined) listeners.push(listener);
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
