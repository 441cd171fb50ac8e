/**
 * Node built-ins for the Flask codec, found synchronously on first use: no top-level `await`
 * when the codec is imported, and nothing loaded until a cookie is signed or compressed (on
 * Deno 2.9+ the first touch of a Node built-in costs tens of milliseconds).
 *
 * @module
 */

type BuiltinLoader = { getBuiltinModule?: (id: string) => unknown };

/**
 * A getter for a Node built-in: looks it up through `process.getBuiltinModule` on its first
 * call and remembers the answer.
 *
 * @typeParam T The module's type.
 * @param id The module id, e.g. `node:zlib`.
 * @param usable Whether the module found has what the caller needs.
 * @returns The getter; it returns `undefined` where the runtime has no such module.
 *
 * @example Looking node:zlib up once
 * ```ts
 * import assert from "node:assert/strict";
 * import { lazyBuiltin } from "./_node_builtin.ts";
 *
 * const zlib = lazyBuiltin<typeof import("node:zlib")>(
 *   "node:zlib",
 *   (m) => typeof m.inflateSync === "function",
 * );
 * assert.equal(zlib(), zlib());
 * ```
 */
export function lazyBuiltin<T>(
  id: string,
  usable: (module: Partial<T>) => boolean,
): () => T | undefined {
  let found: T | null | undefined;
  return () => {
    if (found === undefined) {
      try {
        const process = (globalThis as { process?: BuiltinLoader }).process;
        const module = process?.getBuiltinModule?.(id) as Partial<T> | undefined;
        found = module && usable(module) ? module as T : null;
      } catch {
        found = null;
      }
    }
    return found ?? undefined;
  };
}
