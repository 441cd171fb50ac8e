/**
 * Optional server-side layers on Deno KV: revocation (a logout that holds even against copies
 * of the cookie, and each subject's list of signed-in sessions) and a session store (data on the
 * server, the cookie holding only the sealed id). Import them only when used; the root entry never touches `Deno.openKv`, so it needs no
 * Deno types.
 *
 * @example Logging out for good across instances that share a KV
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { session, type SessionEnv } from "../mod.ts";
 * import { kvRevocation } from "./mod.ts";
 *
 * const kv = await Deno.openKv(":memory:");
 * const app = new Hono<SessionEnv<{ name: string }>>();
 * app.use(session({ secrets: ["a secret of at least thirty-two bytes!"], revocation: kvRevocation(kv) }));
 * app.post("/login", (c) => {
 *   c.get("session").set("name", "Ada");
 *   return c.text("in");
 * });
 * app.post("/logout", (c) => {
 *   c.get("session").destroy();
 *   return c.text("out");
 * });
 * app.get("/", (c) => c.text(c.get("session").get("name") ?? "nobody"));
 *
 * const login = await app.request("/login", { method: "POST" });
 * const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
 * assert.equal(await (await app.request("/", { headers: { cookie } })).text(), "Ada");
 * await app.request("/logout", { method: "POST", headers: { cookie } });
 * // A copy of the old cookie no longer opens.
 * assert.equal(await (await app.request("/", { headers: { cookie } })).text(), "nobody");
 * kv.close();
 * ```
 *
 * @module
 */

export { kvRevocation } from "./revocation.ts";
export type { KvRevocation, KvRevocationOptions } from "./revocation.ts";
export { KV_VALUE_LIMIT, kvStore } from "./store.ts";
export type { KvStoreOptions } from "./store.ts";
