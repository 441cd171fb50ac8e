/**
 * Test helper: a real `redis-server` (Debian's) on a free loopback port, with nothing saved to
 * disk, stopped (and restartable on the same port) by the test that started it.
 *
 * @module
 */

import { freePort } from "./_server.ts";

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
  /** The port, e.g. one chosen with {@linkcode freePort} before; a free one by default. */
  port?: number;
  /** A password clients must give (`requirepass`). */
  password?: string;
  /** Serve TLS only, with this certificate (PEM files); clients are not asked for one. */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

async function waitForPort(
  port: number,
  child: Deno.ChildProcess,
  caFile: string | undefined,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  let exited = false;
  child.status.then(() => (exited = true));
  const caCerts = caFile === undefined ? undefined : [await Deno.readTextFile(caFile)];
  while (Date.now() < deadline && !exited) {
    try {
      const address = { hostname: "127.0.0.1", port };
      const conn = caCerts
        ? await Deno.connectTls({ ...address, caCerts })
        : await Deno.connect(address);
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buffer = new Uint8Array(16);
      const n = await conn.read(buffer);
      conn.close();
      // PONG, or NOAUTH when a password is required: either way it is serving.
      if (n && /^(\+PONG|-NOAUTH)/.test(new TextDecoder().decode(buffer.subarray(0, n)))) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server did not answer on 127.0.0.1:${port} within 10 s`);
}

/**
 * Starts `redis-server` on a free port of 127.0.0.1, without persistence.
 *
 * @param options Persistence folder, port, password and TLS.
 * @returns The running server; stop it in `finally` (or `await using`).
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const port = options.port ?? freePort();
  const persistence = options.dir === undefined
    ? ["--appendonly", "no"]
    : ["--appendonly", "yes", "--appendfsync", "always", "--dir", options.dir];
  const { tls, password } = options;
  const listen = tls === undefined ? ["--port", String(port)] : [
    ...["--port", "0", "--tls-port", String(port), "--tls-auth-clients", "no"],
    ...["--tls-cert-file", tls.certFile, "--tls-key-file", tls.keyFile],
    ...["--tls-ca-cert-file", tls.caFile],
  ];
  const auth = password === undefined ? [] : ["--requirepass", password];
  let child: Deno.ChildProcess | undefined;
  const start = async () => {
    child = new Deno.Command(REDIS_SERVER, {
      args: ["--bind", "127.0.0.1", "--save", "", ...listen, ...persistence, ...auth],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitForPort(port, child, tls?.caFile);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running) return;
    try {
      running.kill("SIGCONT");
      running.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await running.status;
  };
  const signal = (name: Deno.Signal) => child?.kill(name);
  await start();
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
