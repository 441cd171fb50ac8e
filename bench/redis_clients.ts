/**
 * Compares the two maintained Redis clients on npm, `redis` (node-redis) and `ioredis`, on the
 * running Deno: correctness of the commands the Redis layers use, reconnection after the server
 * restarts, and speed (sequential round trips and concurrent requests). Starts its own
 * `redis-server` on a free loopback port. The outcome is recorded in `docs/redis.md`.
 *
 * ```sh
 * deno run -A bench/redis_clients.ts
 * npx --yes deno@2.5.0 run -A bench/redis_clients.ts
 * ```
 *
 * @module
 */

import { createClient } from "redis";
import { Redis } from "ioredis";
import { startRedis } from "../tests/redis_server.ts";
import type { RedisClientLike } from "../lib/redis/mod.ts";

interface Contender {
  name: string;
  open(url: string): Promise<{ client: RedisClientLike; close(): Promise<void> }>;
}

const contenders: Contender[] = [
  {
    name: "redis (node-redis)",
    async open(url) {
      const client = createClient({
        url,
        disableOfflineQueue: true,
        socket: {
          connectTimeout: 1000,
          reconnectStrategy: (retries) => Math.min(retries * 50, 500),
        },
      });
      client.on("error", () => {});
      await client.connect();
      return { client, close: () => client.close() };
    },
  },
  {
    name: "ioredis",
    async open(url) {
      const client = new Redis(url, {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 1000,
        retryStrategy: (times) => Math.min(times * 50, 500),
      });
      client.on("error", () => {});
      await client.connect();
      return { client, close: async () => void (await client.quit()) };
    },
  },
];

function command(client: RedisClientLike, args: string[]): Promise<unknown> {
  // ioredis has a `sendCommand` too, for its own Command objects: use `call` there.
  return "call" in client ? client.call(args[0]!, ...args.slice(1)) : client.sendCommand(args);
}

const redis = await startRedis();
try {
  console.log(`Deno ${Deno.version.deno}\n`);
  console.log(
    "| client | correctness | recovered after restart | sequential GET/s | concurrent GET/s |",
  );
  console.log("|---|---|---|---|---|");
  for (const contender of contenders) {
    const { client, close } = await contender.open(redis.url);
    const problems: string[] = [];
    const body = "é🎉" + "x".repeat(60_000);
    await command(client, ["SET", "k", body, "PX", "5000"]);
    if (await command(client, ["GET", "k"]) !== body) problems.push("GET of a UTF-8 value");
    const mget = await command(client, ["MGET", "k", "missing"]) as unknown[];
    if (mget[0] !== body || mget[1] !== null) problems.push("MGET with a missing key");
    const pttl = Number(await command(client, ["PTTL", "k"]));
    if (!(pttl > 4000 && pttl <= 5000)) problems.push(`PTTL ${pttl}`);
    const evalResult = await command(client, ["EVAL", "return ARGV[1]", "0", "ok"]);
    if (evalResult !== "ok") problems.push("EVAL");

    // Reconnection: stop the server, expect fast failures, start it again, expect success.
    await redis.stop();
    const t0 = performance.now();
    let failedFast = false;
    try {
      await command(client, ["GET", "k"]);
    } catch {
      failedFast = performance.now() - t0 < 2000;
    }
    await redis.start();
    let recovered = "no (10 s)";
    const t1 = performance.now();
    while (performance.now() - t1 < 10_000) {
      try {
        await command(client, ["PING"]);
        recovered = `${Math.round(performance.now() - t1)} ms`;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    if (!failedFast) problems.push("a command while down did not fail within 2 s");

    await command(client, ["SET", "k", "v"]);
    const n = 5000;
    let t = performance.now();
    for (let i = 0; i < n; i++) await command(client, ["GET", "k"]);
    const sequential = n / ((performance.now() - t) / 1000);
    t = performance.now();
    for (let round = 0; round < n / 50; round++) {
      await Promise.all(Array.from({ length: 50 }, () => command(client, ["GET", "k"])));
    }
    const concurrent = n / ((performance.now() - t) / 1000);
    await close();
    console.log(
      `| ${contender.name} | ${problems.length ? problems.join("; ") : "ok"} | ${recovered} | ` +
        `${Math.round(sequential)} | ${Math.round(concurrent)} |`,
    );
  }
} finally {
  await redis.stop();
}
