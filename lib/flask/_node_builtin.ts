/**
 * Finds a `node:` built-in synchronously, without a top-level `await`, so that the Flask codec
 * loads in one step (and from CommonJS `require()`): `process.getBuiltinModule` (Deno 2,
 * Node 20.16+, Bun, workerd with `nodejs_compat`) returns it at once. Runtimes without it get
 * `undefined`, and the callers fall back to Web Crypto and Compression Streams.
 *
 * @module
 */

type BuiltinLoader = { getBuiltinModule?: (id: string) => unknown };

/**
 * The built-in module `id` of this runtime, when it offers one with the functions `needs`.
 *
 * @param id The module specifier, such as `node:zlib`.
 * @param needs Function names the module must have to be usable.
 * @returns The module, or `undefined` where there is no synchronous way to a usable one.
 *
 * @example Finding node:zlib where the runtime has it
 * ```ts
 * import assert from "node:assert/strict";
 * import { nodeBuiltin } from "./_node_builtin.ts";
 *
 * const zlib = nodeBuiltin<typeof import("node:zlib")>("node:zlib", ["inflateSync"]);
 * if (zlib) assert.equal(typeof zlib.inflateSync, "function");
 * assert.equal(nodeBuiltin("node:zlib", ["noSuchFunction"]), undefined);
 * ```
 */
export function nodeBuiltin<T>(id: string, needs: readonly string[]): T | undefined {
  try {
    const process = (globalThis as { process?: BuiltinLoader }).process;
    const module = process?.getBuiltinModule?.(id) as Record<string, unknown> | undefined;
    if (!module || !needs.every((name) => typeof module[name] === "function")) return undefined;
    return module as T;
  } catch {
    // A runtime that refuses the lookup (a sandbox, a permission) has no usable built-in.
    return undefined;
  }
}
