/**
 * Turns the service configuration into the session's server-side options: opens Deno KV or
 * connects to Redis for revocation and the store, sets up the Flask bridge, and passes the
 * cookie settings on. Asynchronous because opening KV is.
 *
 * @module
 */

import { SessionConfigError, type SessionOptions } from "../lib/mod.ts";
import { type AppConfig, configError } from "./config.ts";
import { kvOpenError } from "./startup_errors.ts";

/** Session options beyond secrets and lifetime, and what to close on shutdown. */
export interface ServerSideOptions {
  /** Options for `createApp({ session })`. */
  session: Omit<SessionOptions, "secrets" | "maxAge">;
  /** The opened KV, if any, to close when the server stops. */
  kv?: Deno.Kv;
  /** The Redis connection, if any, to close when the server stops. */
  redis?: { close(): Promise<void> };
}

/**
 * Opens what the configuration asks for.
 *
 * @param config The service configuration.
 * @returns The session options, and the opened KV to close later.
 * @throws {ConfigError} When `SESSION_KV` cannot be opened (e.g. a path the process may not
 * write to), or the Flask bridge refuses a `FLASK_*` value, naming the variable.
 *
 * @example Revocation and a store on an in-memory KV
 * ```ts
 * import assert from "node:assert/strict";
 * import { serverSideOptions } from "./server_side.ts";
 *
 * const { session, kv } = await serverSideOptions({ kv: ":memory:", store: true });
 * assert.notEqual(session.revocation, undefined);
 * assert.notEqual(session.store, undefined);
 * kv?.close();
 * ```
 */
export async function serverSideOptions(
  config:
    & Pick<AppConfig, "kv" | "store" | "flask" | "redis">
    & Partial<Pick<AppConfig, "cookieSecure" | "idleTimeout">>,
): Promise<ServerSideOptions> {
  const session: ServerSideOptions["session"] = {};
  // First, so that a refused Flask setting stops the start before anything is opened.
  if (config.flask) session.foreign = await flaskSession(config.flask);
  if (config.cookieSecure !== undefined) session.cookie = { secure: config.cookieSecure };
  if (config.idleTimeout !== undefined) session.idleTimeout = config.idleTimeout;
  let kv: Deno.Kv | undefined;
  if (config.kv !== undefined) {
    const path = config.kv === "default" ? undefined : config.kv;
    if (path && !path.includes("://") && path !== ":memory:") {
      // A local file: make its folder (e.g. .data/) so a fresh clone works.
      const folder = path.replace(/[^/\\]*$/, "");
      if (folder) await Deno.mkdir(folder, { recursive: true }).catch(fail(path));
    }
    // Imported only in KV modes: a cookie-mode start never loads the KV layers.
    const { kvRevocation, kvStore } = await import("../lib/kv/mod.ts");
    kv = await Deno.openKv(path).catch(fail(path ?? "default"));
    session.revocation = kvRevocation(kv);
    if (config.store) session.store = kvStore(kv);
  }
  let redis: ServerSideOptions["redis"];
  if (config.redis !== undefined) {
    // Loaded only when configured: a service without Redis never loads a client.
    const [{ connectRedis }, { redisRevocation, redisStore }] = await Promise.all([
      import("./redis.ts"),
      import("../lib/redis/mod.ts"),
    ]);
    const connection = await connectRedis(config.redis);
    redis = connection;
    session.revocation = redisRevocation(connection.client);
    if (config.store) session.store = redisStore(connection.client);
  }
  return { session, ...(kv ? { kv } : {}), ...(redis ? { redis } : {}) };
}

// Imported only when configured: a service without Flask never loads the bridge.
async function flaskSession(
  flask: NonNullable<AppConfig["flask"]>,
): Promise<SessionOptions["foreign"]> {
  const { flaskMigration, flaskShared } = await import("../lib/flask/mod.ts");
  const { mode, secretKeys, cookieName, domain, path, secure, sameSite } = flask;
  const options = { secretKeys, cookieName, domain, path, secure, sameSite: sameSite as never };
  try {
    return mode === "shared" ? flaskShared(options) : flaskMigration(options);
  } catch (error) {
    throw error instanceof SessionConfigError ? configError(error) : error;
  }
}

// A KV path the process cannot use is a configuration mistake, reported as one.
function fail(path: string): (error: unknown) => never {
  return (error) => {
    throw kvOpenError(path, error);
  };
}
