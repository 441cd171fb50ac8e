/**
 * Optional server-side layers on Deno KV: revocation and a session store. Import them only
 * when used; the rest of the library never touches `Deno.openKv`.
 *
 * @module
 */

export { kvRevocation } from "./revocation.ts";
export type { KvRevocation, KvRevocationOptions } from "./revocation.ts";
export { KV_VALUE_LIMIT, kvStore } from "./store.ts";
export type { KvStoreOptions } from "./store.ts";
