/**
 * Finds `node:crypto` synchronously, without a top-level `await`: `process.getBuiltinModule`
 * (Deno 2, Node 20.16+, Bun) returns the built-in at once, so modules that use it load in one
 * step and the start of a server waits for no promise. Runtimes without it get `undefined`
 * and the callers fall back to Web Crypto.
 *
 * @module
 */

/** The `node:crypto` module's type. */
export type NodeCrypto = typeof import("node:crypto");

type BuiltinLoader = { getBuiltinModule?: (id: string) => unknown };

let found: NodeCrypto | null | undefined;

/**
 * The `node:crypto` module of this runtime, looked up on the first call and remembered.
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
  if (found === undefined) found = lookup() ?? null;
  return found ?? undefined;
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
