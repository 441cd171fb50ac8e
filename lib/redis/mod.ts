/**
 * Optional server-side layers on Redis (or Valkey), for self-hosted fleets: revocation and a
 * session store that every instance sees. Import this entry point only when used: it loads no
 * Redis client itself; the app creates one (`redis` or `ioredis` from npm) and passes it in.
 *
 * @example With node-redis
 * ```ts ignore
 * import { createClient } from "redis";
 * import { redisRevocation, redisStore } from "@sealed/sessions/redis";
 *
 * const client = createClient({ url: "rediss://:password@redis.internal:6380" });
 * client.on("error", (error) => console.error("redis:", error.message));
 * await client.connect();
 * app.use(session({ secrets, revocation: redisRevocation(client), store: redisStore(client) }));
 * ```
 *
 * @module
 */

export { redisRevocation } from "./revocation.ts";
export type { RedisRevocation, RedisRevocationOptions } from "./revocation.ts";
export { REDIS_DEFAULT_MAX_BYTES, redisStore } from "./store.ts";
export type { RedisStoreOptions } from "./store.ts";
export type { RedisClientLike } from "./_command.ts";
