/**
 * Connects the service to Redis for `SESSION_REDIS_URL`. Loaded with a dynamic import by
 * `routes/server_side.ts` only when that variable is set, so a service without Redis never
 * loads a client.
 *
 * The client is ioredis (see `docs/redis.md` for the comparison with node-redis). It never
 * queues commands while disconnected (they fail at once, and the session layer answers 503 or
 * goes on with `failOpen`), and it reconnects by itself, forever, with a capped back-off.
 *
 * @module
 */

import { Redis } from "ioredis";

/** A Redis connection of the service. */
export interface RedisConnection {
  /** The client, for `redisRevocation()` / `redisStore()`. */
  client: Redis;
  /** Closes the connection (sends `QUIT`, or drops it when Redis is unreachable); idempotent. */
  close(): Promise<void>;
}

/** Longest wait at start-up for the first connection; past it the service starts anyway. */
const STARTUP_WAIT_MS = 2000;

/**
 * Opens a connection to `url` and waits (briefly) for it to be ready. Never fails because
 * Redis is unreachable: requests that need it fail until it is back.
 *
 * @param url A `redis://` or `rediss://` URL, validated by `loadConfig`.
 * @param log Where connection changes are reported.
 * @returns The connection.
 *
 * @example
 * ```ts ignore
 * import { connectRedis } from "./redis.ts";
 *
 * const { client, close } = await connectRedis("redis://127.0.0.1:6379");
 * await close();
 * ```
 */
export async function connectRedis(
  url: string,
  log: (message: string) => void = console.error,
): Promise<RedisConnection> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  });
  const where = redact(url);
  let up = false;
  let reported = false;
  let closing: Promise<void> | undefined;
  client.on("ready", () => {
    up = true;
    reported = false;
    log(`redis: connected to ${where}`);
  });
  // One line per outage, not one per reconnection attempt.
  client.on("close", () => {
    if (up && !closing) log(`redis: connection to ${where} lost; reconnecting`);
    up = false;
  });
  client.on("error", (error: Error) => {
    if (!reported) log(`redis: ${where} unreachable (${error.message}); retrying`);
    reported = true;
  });
  const ready = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, STARTUP_WAIT_MS);
    client.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  client.connect().catch(() => {
    // Reported by the "error" event; the retry strategy keeps trying.
  });
  await ready;
  const quit = async () => {
    try {
      await client.quit();
    } catch {
      // Not connected (Redis down, reconnecting): nothing to say goodbye to; stop retrying.
      client.disconnect();
    }
    log(`redis: connection to ${where} closed`);
  };
  return { client, close: () => (closing ??= quit()) };
}

// The URL for logs: scheme, host and port, never the password.
function redact(url: string): string {
  const { protocol, host } = new URL(url);
  return `${protocol}//${host}`;
}
