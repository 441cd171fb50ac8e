/**
 * A codec for Flask's default session cookie: read cookies a Flask app set, and write cookies a
 * Flask app reads, byte for byte as Flask writes them. Pure TypeScript over `node:crypto` and
 * `node:zlib`; no Hono. See docs/flask-format.md for the type mapping and what is refused.
 *
 * @example Moving a Flask session over
 * ```ts
 * import assert from "node:assert/strict";
 * import { sealFlaskCookie, unsealFlaskCookie } from "./mod.ts";
 *
 * const options = { secretKeys: ["tutorial-secret-key"], now: new Date(1_700_000_000_000) };
 * const cookie = await sealFlaskCookie({ name: "Ada", visits: 3 }, options);
 * const session = await unsealFlaskCookie(cookie, options);
 * assert.equal(session?.name, "Ada");
 * assert.equal(session?.visits, 3);
 * ```
 *
 * @module
 */

export { sealFlaskCookie, unsealFlaskCookie } from "./codec.ts";
export type { FlaskCookieOptions } from "./codec.ts";
export { flaskMigration, flaskShared } from "./bridge.ts";
export type { FlaskSessionOptions } from "./bridge.ts";
