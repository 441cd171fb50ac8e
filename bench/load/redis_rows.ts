/**
 * The Redis rows of `bench/load.ts`: the real service with revocation on Redis
 * (`SESSION_REDIS_URL`) and with the Redis store (`SESSION_STORE=redis`), next to the Deno KV
 * rows; the middleware alone with Redis revocation (`bench/load/ours_redis.ts`): sessions
 * without a subject (8a), each with its own subject (8b), and the same with each subject's list
 * of signed-in sessions kept (8c); and their targets. One `redis-server` (Debian's, not pinned
 * to a core, nothing saved) serves every Redis row of a run; {@linkcode stopBenchRedis} stops
 * it. Around each measured run of a Redis row, {@linkcode countRedisCommands} reads Redis's
 * `INFO commandstats` (with `redis-cli`), for {@linkcode redisCommandsTable}: the commands each
 * request cost.
 *
 * @module
 */

import { HAS_REDIS, type RedisServer, startRedis } from "../../tests/redis_server.ts";
import { commandOutput } from "../_http_load.ts";

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

// ---------------------------------------------------------------------------------------------
// Commands per request

/**
 * Commands that write, by name. Redis counts the commands a script runs under their own names
 * (beside one `eval`), so a script's writes are counted here too.
 */
const WRITES = new Set([
  "set",
  "del",
  "unlink",
  "getdel",
  "expire",
  "pexpire",
  "hset",
  "hdel",
  "incr",
]);

/** Short names of `bench/load.ts`'s workloads. */
const WORKLOAD_NAMES: Record<string, string> = {
  get: "GET, one cookie",
  getMany: "GET, many sessions",
  post: "POST /greeting",
};

/** Requests and the calls of each command, summed over the rounds, by `workload:row`. */
const counted = new Map<string, { requests: number; calls: Map<string, number> }>();

/** Calls of each command since Redis started; `undefined` without Redis or `redis-cli`. */
async function commandCalls(): Promise<Map<string, number> | undefined> {
  if (redis === undefined) return undefined;
  const text = await commandOutput("redis-cli", ["-u", redis.url, "INFO", "commandstats"]);
  if (text === undefined || !text.includes("# Commandstats")) return undefined;
  const calls = new Map<string, number>();
  for (const [, name, count] of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls.set(name!, Number(count));
  }
  return calls;
}

/**
 * Starts counting the Redis commands of a measured run, when `row` is a Redis row.
 *
 * @param workload The workload's key in `bench/load.ts`.
 * @param row The row's key.
 * @returns A function to call right after the run with the requests it completed; `undefined`
 *   for another row, or without Redis or `redis-cli`.
 */
export async function countRedisCommands(
  workload: string,
  row: string,
): Promise<((requests: number) => Promise<void>) | undefined> {
  if (!REDIS_SERVERS.some((spec) => spec.key === row)) return undefined;
  const before = await commandCalls();
  if (before === undefined) return undefined;
  return async (requests) => {
    const after = await commandCalls();
    if (after === undefined) return;
    const sums = counted.get(`${workload}:${row}`) ?? { requests: 0, calls: new Map() };
    sums.requests += requests;
    for (const [name, calls] of after) {
      const delta = calls - (before.get(name) ?? 0);
      // The `INFO` that read `before` is not the server's.
      if (name !== "info" && delta > 0) sums.calls.set(name, (sums.calls.get(name) ?? 0) + delta);
    }
    counted.set(`${workload}:${row}`, sums);
  };
}

/** The Redis commands per request of each Redis row measured; "" when none was. */
export function redisCommandsTable(): string {
  const lines = [
    "## Redis commands per request",
    "",
    "Counted with `INFO commandstats` around each measured run (not the warm-up), summed over " +
    "rounds. A script counts as one `eval` plus each command it runs; writes are `" +
    [...WRITES].join("`, `") + "`, in or out of scripts.",
    "",
    "| server | workload | requests | commands | writes | eval | by command |",
    "|---|---|--:|--:|--:|--:|---|",
  ];
  const header = lines.length;
  const rows = [...counted].sort(([a], [b]) => a.localeCompare(b));
  for (const spec of REDIS_SERVERS) {
    for (const [key, { requests, calls }] of rows) {
      const [workload, row] = key.split(":");
      if (row !== spec.key || requests === 0) continue;
      const per = (count: number) => (count / requests).toFixed(3);
      const sum = (names: string[]) => names.reduce((total, name) => total + calls.get(name)!, 0);
      const names = [...calls.keys()].sort((a, b) => calls.get(b)! - calls.get(a)!);
      const writes = names.filter((name) => WRITES.has(name));
      const each = names.map((name) => `${name} ${per(calls.get(name)!)}`).join(", ");
      lines.push(
        `| ${spec.label.split(" ")[0]} | ${WORKLOAD_NAMES[workload!] ?? workload} | ` +
          `${requests} | ${per(sum(names))} | ${per(sum(writes))} | ` +
          `${per(calls.get("eval") ?? 0)} | ${each || "—"} |`,
      );
    }
  }
  return lines.length > header ? lines.join("\n") : "";
}
