/**
 * The Redis rows of `bench/load.ts`: the real service with revocation on Redis
 * (`SESSION_REDIS_URL`) and with the Redis store (`SESSION_STORE=redis`), next to the Deno KV
 * rows; the middleware alone with Redis revocation (`bench/load/ours_redis.ts`): sessions
 * without a subject (8a), each with its own subject (8b), and the same with each subject's list
 * of signed-in sessions kept (8c); and their targets. One `redis-server` (Debian's, not pinned
 * to a core, nothing saved) serves every Redis row of a run; {@linkcode stopBenchRedis} stops
 * it.
 *
 * @module
 */

import { HAS_REDIS, type RedisServer, startRedis } from "../../tests/redis_server.ts";

/** Started once, when `redis-server` is installed; rows are "not available" otherwise. */
const redis: RedisServer | undefined = HAS_REDIS ? await startRedis() : undefined;

/** Stops the run's `redis-server`. */
export async function stopBenchRedis(): Promise<void> {
  await redis?.stop();
}

function serviceWithRedis(extra: Record<string, string>) {
  return () => ({
    args: ["run", "--allow-net", "--allow-env", "--allow-read", "main.ts"],
    env: {
      HOSTNAME: "127.0.0.1",
      SESSION_SECRET: "9c3b1f5e7a0d2c4b6e8f1a3c5e7b9d0f2a4c6e8b0d1f3a5c7e9b2d4f6a8c0e1b",
      // No server listens on port 1: without redis-server the row fails its check.
      SESSION_REDIS_URL: redis?.url ?? "redis://127.0.0.1:1",
      ...extra,
    },
  });
}

function oursWithRedis(subjects: boolean, list: boolean) {
  return () => ({
    args: ["run", "-A", "bench/load/ours_redis.ts"],
    env: {
      REDIS_URL: redis?.url ?? "redis://127.0.0.1:1",
      SUBJECTS: subjects ? "1" : "0",
      LIST: list ? "1" : "0",
    },
  });
}

/** Server rows, in the shape of `bench/load.ts`'s `SERVERS` (`kv` = check a logout holds). */
export const REDIS_SERVERS = [
  {
    key: "redisRevocation",
    label: "(7a) service + revocation (SESSION_REDIS_URL)",
    kv: true,
    optional: true,
    launch: serviceWithRedis({}),
  },
  {
    key: "redisStore",
    label: "(7b) service + Redis store (SESSION_STORE=redis)",
    kv: true,
    store: true,
    optional: true,
    launch: serviceWithRedis({ SESSION_STORE: "redis" }),
  },
  {
    key: "oursRedis",
    label: "(8a) our middleware + Redis revocation, sessions without a subject",
    kv: false,
    optional: true,
    launch: oursWithRedis(false, false),
  },
  {
    key: "oursRedisSubjects",
    label: "(8b) our middleware + Redis revocation, each session with its own subject",
    kv: false,
    optional: true,
    launch: oursWithRedis(true, false),
  },
  {
    key: "oursRedisList",
    label: "(8c) our middleware + Redis revocation and list of sessions, each with its own subject",
    kv: false,
    optional: true,
    launch: oursWithRedis(true, true),
  },
] as const;

/**
 * Targets, in the shape of `bench/load.ts`'s `TARGETS`: the service's, the same bar as Deno
 * KV's; keeping the list of sessions slows many visitors' reads by 5% at most.
 */
export const REDIS_TARGETS = [
  {
    text: "(7a) Redis revocation on ≥ 0.7× (5) revocation off on GET /session-data",
    workload: "get",
    server: "redisRevocation",
    base: "service",
    min: 0.7,
  },
  {
    text: "(8c) the list of sessions ≥ 0.95× (8b) revocation alone on GET, many sessions",
    workload: "getMany",
    server: "oursRedisList",
    base: "oursRedisSubjects",
    min: 0.95,
  },
] as const;
