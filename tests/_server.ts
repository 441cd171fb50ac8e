/**
 * Test helpers for real processes: a free port for a server to start on, `main.ts` run as a
 * server in a subprocess, a script in a fresh `deno eval`, and a raw connection to a server (an
 * upload still arriving).
 *
 * @module
 */

/** The repository root, where `main.ts` and `deno.json` are. */
export const ROOT: string = new URL("..", import.meta.url).pathname;

/** The lowest port {@linkcode freePort} chooses: below it are the privileged ports. */
const LOWEST_PORT = 1024;

/**
 * The kernel's ephemeral port range, the ports it hands out by itself.
 *
 * @returns The first and last port of `/proc/sys/net/ipv4/ip_local_port_range`; where that
 * cannot be read, 32768 to 65535, which holds Linux's default range (32768 to 60999) and the
 * one of macOS and Windows (49152 to 65535).
 */
export function ephemeralPorts(): { low: number; high: number } {
  try {
    const text = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range");
    const [low, high] = text.trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! <= high!) {
      return { low: low!, high: high! };
    }
  } catch {
    // Not Linux, or not allowed to read it.
  }
  return { low: 32768, high: 65535 };
}

/**
 * A port of 127.0.0.1 for a server a test starts itself: chosen at random outside the kernel's
 * ephemeral range ({@linkcode ephemeralPorts}), from 1024 up, and free when chosen (checked by
 * binding it).
 *
 * Never a port of the ephemeral range: the kernel gives those out by itself, to every server
 * listening on port 0 and as the local port of every outgoing connection. Such a port, left free
 * until its server binds it, can be taken in the meantime, even by a client connecting to that
 * very port (a service retrying a Redis not started yet): given the port as its own, the client
 * is connected to itself (a TCP self-connection) and holds it, and the server cannot bind it.
 * Outside the range, only a process asking for that port by number can take it. The random
 * choice keeps concurrent test runs on one machine apart; a server that binds the port itself
 * should still be started with {@linkcode startOnFreePort}, which moves it to another port when
 * another run took this one first.
 *
 * @returns The port.
 * @throws {Error} When no port is outside the ephemeral range, or none of 100 tried was free.
 */
export function freePort(): number {
  const { low, high } = ephemeralPorts();
  // From 1024 up, outside the range: below `low`, and above `high`.
  const below = Math.max(0, low - LOWEST_PORT);
  const firstAbove = Math.max(high + 1, LOWEST_PORT);
  const above = Math.max(0, 65536 - firstAbove);
  if (below + above === 0) {
    throw new Error(
      `Cannot choose a port: the ephemeral range ${low} to ${high} leaves none from ${LOWEST_PORT} up`,
    );
  }
  for (let tries = 0; tries < 100; tries++) {
    const index = Math.floor(Math.random() * (below + above));
    const port = index < below ? LOWEST_PORT + index : firstAbove + index - below;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
  throw new Error(
    `Cannot choose a port: 100 ports outside the ephemeral range ${low} to ${high} were in use`,
  );
}

// How a server says it could not bind its port: redis-server, nginx, haproxy, Werkzeug and
// workerd print the system's "Address already in use", Deno `AddrInUse`, Node and Bun `EADDRINUSE`,
// and main.ts "port … already in use".
const ADDRESS_IN_USE = /already in use|AddrInUse|EADDRINUSE/i;

/**
 * Starts a server on a port from {@linkcode freePort}, and again on another one, three times at
 * most, while it fails because its port is in use: another process, such as a concurrent test
 * run, may have taken the port since it was checked.
 *
 * @param start Starts the server on `port` and resolves once it serves; rejects, with what the
 * server printed in the error's message, when it does not.
 * @returns What `start` resolved to.
 * @throws {Error} What `start` threw: at once when its port was not the cause, else the third
 * time.
 */
export async function startOnFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await start(freePort());
    } catch (error) {
      if (attempt === 3 || !ADDRESS_IN_USE.test(String(error))) throw error;
    }
  }
}

/** Permissions `deno task start` grants, give or take `.data` writes the service never does. */
const RUN_FLAGS = ["run", "--allow-net", "--allow-env", "--allow-read"];

// Only what Deno needs to find its cache and reach the registry: the parent's SESSION_* or
// DENO_DEPLOYMENT_ID must never leak into a test that checks behaviour without them.
const PASSED_THROUGH = [
  "PATH",
  "HOME",
  "TMPDIR",
  "DENO_DIR",
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
  "XDG_CACHE_HOME",
  "NPM_CONFIG_REGISTRY",
  "SSL_CERT_FILE",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
];

/**
 * The environment of a child process: `env`, `NO_COLOR=1`, and only what Deno needs of this
 * process's environment.
 *
 * @param env Variables to set.
 * @returns The whole environment, for a command with `clearEnv: true`.
 */
export function childEnv(env: Record<string, string> = {}): Record<string, string> {
  const base: Record<string, string> = { NO_COLOR: "1" };
  for (const name of PASSED_THROUGH) {
    const value = Deno.env.get(name);
    if (value !== undefined) base[name] = value;
  }
  return { ...base, ...env };
}

/** Options of {@linkcode startServer} and {@linkcode runMain}. */
export interface MainOptions {
  /** Environment variables of the process, on top of what Deno needs. `PORT` and `HOSTNAME`
   * default to `0` and `127.0.0.1`. */
  env?: Record<string, string>;
  /** Arguments after `main.ts`, e.g. `["--dev"]`. */
  args?: string[];
  /** A folder the process may write to (`--allow-write=`), e.g. for a Deno KV file. */
  allowWrite?: string;
  /**
   * Start it as users do, with `deno task start` (or `dev`), in a process group of its own
   * (`setsid`), so that a test can signal the whole group as a supervisor does:
   * `Deno.kill(-pid, …)`.
   */
  task?: "start" | "dev";
}

function runFlags(options: MainOptions): string[] {
  return options.allowWrite ? [...RUN_FLAGS, `--allow-write=${options.allowWrite}`] : RUN_FLAGS;
}

/** A running server. */
export interface RunningServer extends AsyncDisposable {
  /** Base URL, e.g. `http://127.0.0.1:41234`, without a trailing slash. */
  readonly url: string;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** What the process wrote to stdout so far. */
  stdout(): string;
  /**
   * The process id, to signal it (`Deno.kill(pid, "SIGTERM")`); with `task`, also the id of
   * its process group.
   */
  readonly pid: number;
  /** Resolves when the process has exited and its output streams have ended. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** Stops the process and waits for it and its output streams to end. */
  stop(): Promise<void>;
}

/**
 * Starts `main.ts` on a free port of 127.0.0.1 and waits until `/healthz` answers.
 *
 * @param options Environment and arguments.
 * @returns The running server; stop it in `finally` (or `await using`).
 * @throws {Error} When the process exits or stays silent for 30 s before listening; the
 * message carries its output.
 */
export async function startServer(options: MainOptions = {}): Promise<RunningServer> {
  const [command, args] = options.task
    ? ["setsid", [Deno.execPath(), "task", options.task, ...(options.args ?? [])]]
    : [Deno.execPath(), [...runFlags(options), "main.ts", ...(options.args ?? [])]];
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    clearEnv: true,
    env: childEnv({ PORT: "0", HOSTNAME: "127.0.0.1", ...options.env }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let stdout = "";
  let stderr = "";
  let onOutput = () => {};
  const drain = async (stream: ReadableStream<Uint8Array>, add: (text: string) => void) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      add(text);
      onOutput();
    }
  };
  const drained = Promise.all([
    drain(child.stdout, (text) => (stdout += text)),
    drain(child.stderr, (text) => (stderr += text)),
  ]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    onOutput();
    return s;
  });

  const signal = (name: Deno.Signal) => {
    try {
      if (options.task) Deno.kill(-child.pid, name);
      else child.kill(name);
    } catch {
      // Already gone.
    }
  };
  const stop = async () => {
    if (!exited) signal("SIGTERM");
    // A process that outlives its SIGTERM must not hold the test run.
    const timer = setTimeout(() => signal("SIGKILL"), 10_000);
    try {
      await status;
      await drained;
    } finally {
      clearTimeout(timer);
    }
  };

  try {
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no 'Listening on' line in 30 s")), 30_000);
      onOutput = () => {
        const match = stdout.match(/Listening on http:\/\/[^\s]+:(\d+)\//);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        } else if (exited) {
          clearTimeout(timer);
          reject(new Error("the server exited before listening"));
        }
      };
      onOutput();
    });
    onOutput = () => {};
    const url = `http://127.0.0.1:${port}`;
    const health = await fetch(`${url}/healthz`);
    await health.body?.cancel();
    if (!health.ok) throw new Error(`/healthz answered ${health.status}`);
    return {
      url,
      stderr: () => stderr,
      stdout: () => stdout,
      pid: child.pid,
      exited: status.then(async (s) => (await drained, s)),
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stop();
    throw new Error(
      `Cannot start main.ts: ${(error as Error).message}\nstdout:\n${stdout}\nstderr:\n${stderr}`,
    );
  }
}

/** How a run of `main.ts` ended. */
export interface MainOutcome {
  /** The exit code. */
  code: number;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/**
 * Runs `main.ts` to completion, for configurations that must refuse to start. Killed after
 * 30 s, so a server that starts anyway fails the test instead of hanging it.
 *
 * @param options Environment and arguments.
 * @returns The exit code and output.
 */
export async function runMain(options: MainOptions = {}): Promise<MainOutcome> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...runFlags(options), "main.ts", ...(options.args ?? [])],
    cwd: ROOT,
    clearEnv: true,
    env: childEnv({ PORT: "0", HOSTNAME: "127.0.0.1", ...options.env }),
    stdin: "null",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/**
 * Runs TypeScript in a fresh `deno eval` at the repository root, with {@linkcode childEnv}. A
 * script still running after `timeoutMs` is killed: one that never ends fails its test rather
 * than holding the suite.
 *
 * @param code The script.
 * @param timeoutMs How long it may run.
 * @returns What it printed on stdout.
 * @throws {Error} When it was killed, or did not exit with 0 (its stderr in the message).
 */
export async function evalFresh(code: string, timeoutMs = 30_000): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    cwd: ROOT,
    clearEnv: true,
    env: childEnv(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  if (output.signal !== null) {
    throw new Error(`the script was still running after ${timeoutMs} ms:\n${stderr}`);
  }
  if (!output.success) throw new Error(`the script failed:\n${stderr}`);
  return new TextDecoder().decode(output.stdout);
}

/**
 * Sends a URL-encoded `POST /greeting` to `port` on a raw connection with only half its body,
 * as an upload still arriving.
 *
 * @param port The server's port on 127.0.0.1.
 * @returns The connection, and the rest of the body to write on it.
 */
export async function startSlowPost(port: number): Promise<{ conn: Deno.Conn; rest: string }> {
  const body = new URLSearchParams({ name: "Ada", lastname: "Lovelace" }).toString();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = [
    "POST /greeting HTTP/1.1",
    `Host: 127.0.0.1:${port}`,
    "Accept: text/plain",
    "Content-Type: application/x-www-form-urlencoded",
    `Content-Length: ${body.length}`,
    "",
    "",
  ].join("\r\n");
  const half = Math.floor(body.length / 2);
  await conn.write(new TextEncoder().encode(head + body.slice(0, half)));
  return { conn, rest: body.slice(half) };
}

/**
 * Reads a whole HTTP/1.1 response from a raw connection: up to its `Content-Length`, or until
 * the server closes the connection.
 *
 * @param conn The connection.
 * @returns The response as text, head and body.
 */
export async function readResponse(conn: Deno.Conn): Promise<string> {
  const buffer = new Uint8Array(16_384);
  let text = "";
  for (;;) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) return text;
    text += new TextDecoder().decode(buffer.subarray(0, n));
    const end = text.indexOf("\r\n\r\n");
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(text);
    if (end >= 0 && length && text.length >= end + 4 + Number(length[1])) return text;
  }
}

/** A request whose body trickles in over a raw connection, and what the server does with it. */
export interface Trickle extends AsyncDisposable {
  /**
   * Resolves with the answer's status line once its head has arrived, or with `closed without an
   * answer`.
   */
  readonly answered: Promise<string>;
  /** Resolves once the server has closed (or reset) the connection. */
  readonly closed: Promise<void>;
}

/**
 * Sends `POST /greeting` to `port` on a raw connection with `headers` and the start of a body,
 * then one more byte of it every 100 ms and never the end, as a client that holds a request open
 * by sending its body slowly. With `Transfer-Encoding: chunked` among the headers, each byte goes
 * as a chunk of its own. Dispose of it (`await using`) to stop sending and close the connection.
 *
 * @param port The server's port on 127.0.0.1.
 * @param headers Header lines besides `Host`, e.g.
 * `["Content-Type: text/plain", "Content-Length: 1000"]`.
 * @param start What to send of the body at once (as is: already framed when chunked).
 * @returns What to watch on the connection.
 */
export async function startTrickle(
  port: number,
  headers: string[],
  start = "",
): Promise<Trickle> {
  const encoder = new TextEncoder();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = ["POST /greeting HTTP/1.1", `Host: 127.0.0.1:${port}`, ...headers, "", ""];
  await conn.write(encoder.encode(head.join("\r\n") + start));
  const chunked = headers.some((line) => /^transfer-encoding:\s*chunked$/i.test(line));
  const byte = encoder.encode(chunked ? "1\r\na\r\n" : "a");
  const dripping = setInterval(() => conn.write(byte).catch(() => {}), 100);
  let answer = (_statusLine: string) => {};
  const answered = new Promise<string>((resolve) => (answer = resolve));
  const closed = (async () => {
    const buffer = new Uint8Array(16_384);
    let text = "";
    for (;;) {
      // A reset counts as closed: the server closed with bytes of the body still unread.
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
      if (text.includes("\r\n\r\n")) answer(text.split("\r\n", 1)[0]!);
    }
    answer("closed without an answer");
    clearInterval(dripping);
  })();
  return {
    answered,
    closed,
    async [Symbol.asyncDispose]() {
      clearInterval(dripping);
      try {
        conn.close();
      } catch {
        // Already closed.
      }
      await closed;
    },
  };
}
