/**
 * Test helper: a real `redis-server` (Debian's) on a free loopback port, with nothing saved to
 * disk, stopped (and restartable on the same port) by the test that started it.
 *
 * @module
 */

import { Redis } from "ioredis";
import { startOnFreePort } from "./_server.ts";

/** Where Debian installs the server; `.ci/run` installs the `redis-server` package. */
export const REDIS_SERVER = "/usr/bin/redis-server";

/** Whether `redis-server` is installed; tests that need it are registered as ignored if not. */
export const HAS_REDIS: boolean = (() => {
  try {
    return Deno.statSync(REDIS_SERVER).isFile;
  } catch {
    return false;
  }
})();

/** A running `redis-server`. */
export interface RedisServer extends AsyncDisposable {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** `redis://127.0.0.1:PORT` (`rediss://` with TLS, `:PASSWORD@` with a password). */
  readonly url: string;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port: empty, unless started with `dir` (append-only file). */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open but nothing answers. */
  pause(): void;
  /** Lets a paused process go on (SIGCONT). */
  resume(): void;
}

/** Options of {@linkcode startRedis}. */
export interface StartRedisOptions {
  /**
   * A folder for an append-only file written on every command, so that data survives a
   * restart. Without it nothing is saved.
   */
  dir?: string;
  /**
   * The port, e.g. one chosen before with `freePort()` (`tests/_server.ts`); a free one by
   * default.
   */
  port?: number;
  /** A password clients must give (`requirepass`). */
  password?: string;
  /** Serve TLS only, with this certificate (PEM files); clients are not asked for one. */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

/** How long a `redis-server` may take to serve, on a machine busy with other tests. */
const START_TIMEOUT_MS = 30_000;

/** A `redis-server` process, and the end of its output. */
interface RedisProcess {
  child: Deno.ChildProcess;
  /** Resolves once the process has exited and its output is read. */
  ended: Promise<void>;
}

/**
 * Spawns `redis-server` and waits until it serves on `port`: it printed that it is ready (so an
 * answer cannot come from another process on that port) and answers `PING`.
 *
 * @throws {Error} When it exits first (its port in use, say) or is not serving in time; the
 * message carries what it printed.
 */
async function spawnRedis(
  args: string[],
  port: number,
  caFile: string | undefined,
): Promise<RedisProcess> {
  const child = new Deno.Command(REDIS_SERVER, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Its log and errors, the last few kilobytes, for an error message; read to the end, so that
  // it never waits on a full pipe.
  let output = "";
  const read = (stream: ReadableStream<Uint8Array>) =>
    stream.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (text) => void (output = (output + text).slice(-8_192)) }),
    );
  const ended = Promise.all([child.status, read(child.stdout), read(child.stderr)]).then(() => {});
  let exited: Deno.CommandStatus | undefined;
  child.status.then((status) => (exited = status));

  const deadline = Date.now() + START_TIMEOUT_MS;
  const caCerts = caFile === undefined ? undefined : [await Deno.readTextFile(caFile)];
  let failure = `was not serving after ${START_TIMEOUT_MS / 1000} s`;
  while (Date.now() < deadline) {
    if (exited) {
      failure = `exited with code ${exited.code} before serving`;
      break;
    }
    if (/Ready to accept connections/.test(output) && await answersPing(port, caCerts)) {
      return { child, ended };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  try {
    child.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  await ended;
  throw new Error(`redis-server ${failure} on 127.0.0.1:${port}; its output:\n${output}`);
}

async function answersPing(port: number, caCerts: string[] | undefined): Promise<boolean> {
  try {
    const address = { hostname: "127.0.0.1", port };
    const conn = caCerts
      ? await Deno.connectTls({ ...address, caCerts })
      : await Deno.connect(address);
    try {
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buffer = new Uint8Array(16);
      const n = await conn.read(buffer);
      // PONG, or NOAUTH when a password is required: either way it is serving.
      return n !== null &&
        /^(\+PONG|-NOAUTH)/.test(new TextDecoder().decode(buffer.subarray(0, n)));
    } finally {
      conn.close();
    }
  } catch {
    return false;
  }
}

/**
 * Starts `redis-server` on a free port of 127.0.0.1 ({@linkcode startOnFreePort}), or on
 * `options.port`, without persistence.
 *
 * @param options Persistence folder, port, password and TLS.
 * @returns The running server; stop it in `finally` (or `await using`).
 * @throws {Error} When it does not serve within 30 s, or exits first; the message carries its
 * output.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const persistence = options.dir === undefined
    ? ["--appendonly", "no"]
    : ["--appendonly", "yes", "--appendfsync", "always", "--dir", options.dir];
  const { tls, password } = options;
  const args = (port: number) => [
    ...["--bind", "127.0.0.1", "--save", ""],
    ...(tls === undefined ? ["--port", String(port)] : [
      ...["--port", "0", "--tls-port", String(port), "--tls-auth-clients", "no"],
      ...["--tls-cert-file", tls.certFile, "--tls-key-file", tls.keyFile],
      ...["--tls-ca-cert-file", tls.caFile],
    ]),
    ...persistence,
    ...(password === undefined ? [] : ["--requirepass", password]),
  ];
  const spawn = async (port: number) => ({
    port,
    process: await spawnRedis(args(port), port, tls?.caFile),
  });
  const first = options.port === undefined
    ? await startOnFreePort(spawn)
    : await spawn(options.port);
  const { port } = first;
  let running: RedisProcess | undefined = first.process;
  const start = async () => {
    running = await spawnRedis(args(port), port, tls?.caFile);
  };
  const stop = async () => {
    const current = running;
    running = undefined;
    if (!current) return;
    try {
      current.child.kill("SIGCONT");
      current.child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await current.ended;
  };
  const signal = (name: Deno.Signal) => running?.child.kill(name);
  return {
    port,
    url: `${tls ? "rediss" : "redis"}://${password ? `:${password}@` : ""}127.0.0.1:${port}`,
    stop,
    start,
    pause: () => signal("SIGSTOP"),
    resume: () => signal("SIGCONT"),
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * An ioredis client of `url` that fails fast while Redis is down (no offline queue, no retry of a
 * command) and reconnects every 50 ms, as an instance of the service would.
 */
export function connect(url: string): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
  });
  client.on("error", () => {});
  return client;
}

/** Resolves once `client` is connected. */
export async function ready(client: Redis): Promise<void> {
  if (client.status !== "ready") await new Promise((resolve) => client.once("ready", resolve));
}

/** Runs `fn` with a fresh Redis and two connected clients (two "instances"), then stops them. */
export async function withRedis(
  fn: (redis: RedisServer, a: Redis, b: Redis) => Promise<void>,
  options: StartRedisOptions = {},
): Promise<void> {
  const redis = await startRedis(options);
  const a = connect(redis.url);
  const b = connect(redis.url);
  try {
    await Promise.all([ready(a), ready(b)]);
    await fn(redis, a, b);
  } finally {
    a.disconnect();
    b.disconnect();
    await redis.stop();
  }
}
