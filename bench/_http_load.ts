/**
 * Pieces shared by the wrk-driven benchmarks (`load.ts`, `ab.ts`): machine facts, CPU pinning,
 * starting a server on a free port and stopping it, the requests that check it and mint its
 * sessions, wrk's Lua scripts, running wrk and reading its output, and the CPU time a process
 * or a core has used (`/proc`).
 *
 * @module
 */

import { freePort } from "../tests/_server.ts";

/** Where every server under test listens: where `freePort()` checks its ports are free. */
export const HOST = "127.0.0.1";
/** wrk's open connections. */
export const CONNECTIONS = 32;
/** wrk's threads: one, so that wrk fits on the core it is pinned to. */
export const THREADS = 1;
/** The greeting every server is sent. */
export const FORM_BODY = "name=Ada&lastname=Lovelace";
/** What the answers to that greeting, and the session data it stored, contain. */
export const EXPECTED = "Ada Lovelace";

const READY_TIMEOUT_MS = 60_000;
const FETCH_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;
const OUTPUT_CAP = 8_192;
/** Concurrent requests while minting sessions. */
const MINT_CONCURRENCY = 16;

// ---------------------------------------------------------------------------------------------
// Processes and machine facts

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Keeps the last `OUTPUT_CAP` characters of a stream, draining it so the child never blocks. */
function collect(stream: ReadableStream<Uint8Array>): { text: () => string; done: Promise<void> } {
  let text = "";
  const done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text = (text + chunk).slice(-OUTPUT_CAP);
    }
  })().catch(() => {});
  return { text: () => text, done };
}

/**
 * Runs a short command.
 *
 * @returns Its stdout (else its stderr), trimmed; `undefined` when it could not run, or failed
 * without a word.
 */
export async function commandOutput(
  cmd: string,
  args: string[],
  options: { cwd?: string } = {},
): Promise<string | undefined> {
  try {
    const { success, stdout, stderr } = await new Deno.Command(cmd, {
      args,
      cwd: options.cwd,
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(10_000),
    }).output();
    const text = new TextDecoder().decode(stdout).trim() || new TextDecoder().decode(stderr).trim();
    return success || text !== "" ? text : undefined;
  } catch {
    return undefined;
  }
}

async function canRun(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

/** Logical cores of the machine. */
export const CORES: number = navigator.hardwareConcurrency;
/** Whether servers go on core 0 and wrk on core 1 (`taskset`, 2+ cores). */
export const PIN: boolean = CORES >= 2 && (await canRun("taskset", ["-c", "0", "true"])) &&
  (await canRun("taskset", ["-c", "1", "true"]));

/** The command and arguments that run `cmd` on `core` when pinning is on. */
export function pinned(core: number, cmd: string, args: string[]): [string, string[]] {
  return PIN ? ["taskset", ["-c", String(core), cmd, ...args]] : [cmd, args];
}

/** The CPU's model name, from `/proc/cpuinfo`. */
export async function cpuModel(): Promise<string> {
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    return info.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown CPU";
  } catch {
    return "unknown CPU";
  }
}

/** The 1, 5 and 15 minute load averages, as `/proc/loadavg` gives them. */
export async function loadAverage(): Promise<string> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

/** The environment of a child process: `extra` on top of the few variables Deno needs. */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  // A clean environment: a SESSION_* variable of the caller must not change a row's mode.
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR", "LANG"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

const CLOCK_TICKS = Number(await commandOutput("getconf", ["CLK_TCK"])) || 100;

/** CPU time (user + system, all threads) a process has used, in seconds. */
export async function cpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // Fields after the parenthesised command name, which may hold spaces: state is first,
    // utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** A process's CPU time at one moment, for {@linkcode cpuBetween}. */
export interface CpuSample {
  /** utime + stime of the whole process (threads gone included), in seconds: clock ticks. */
  seconds: number;
  /** Time on a CPU of each live thread, in ns (`/proc/PID/task/TID/schedstat`), if readable. */
  threadNs: Map<number, number> | undefined;
}

/** The on-CPU time of each thread of `pid`, in ns; `undefined` where the kernel lacks it. */
async function threadNs(pid: number): Promise<Map<number, number> | undefined> {
  try {
    const tids: number[] = [];
    for await (const entry of Deno.readDir(`/proc/${pid}/task`)) tids.push(Number(entry.name));
    const times = new Map<number, number>();
    await Promise.all(tids.map(async (tid) => {
      try {
        const text = await Deno.readTextFile(`/proc/${pid}/task/${tid}/schedstat`);
        const ns = Number(text.split(" ")[0]);
        if (Number.isFinite(ns)) times.set(tid, ns);
      } catch {
        // The thread ended meanwhile; cpuBetween notices that it is missing.
      }
    }));
    return times.size > 0 ? times : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Samples a process's CPU time. Clock ticks alone (10 ms) are too coarse for bursts of a
 * second, hence the per-thread nanoseconds beside them.
 */
export async function cpuSample(pid: number): Promise<CpuSample | undefined> {
  const [seconds, threads] = await Promise.all([cpuSeconds(pid), threadNs(pid)]);
  return seconds === undefined ? undefined : { seconds, threadNs: threads };
}

/**
 * CPU time, in seconds, a process used between two samples: the sum of its threads' on-CPU
 * time (the quantity utime + stime are scaled to), or the clock ticks' difference when a
 * thread of `before` has ended since, whose last share the thread sums would miss.
 */
export function cpuBetween(before: CpuSample, after: CpuSample): number {
  const ticks = after.seconds - before.seconds;
  if (before.threadNs === undefined || after.threadNs === undefined) return ticks;
  let ns = 0;
  for (const [tid, was] of before.threadNs) {
    const now = after.threadNs.get(tid);
    if (now === undefined) return ticks;
    ns += now - was;
  }
  // Threads started in between count from zero.
  for (const [tid, now] of after.threadNs) if (!before.threadNs.has(tid)) ns += now;
  return ns / 1e9;
}

/** Busy time (everything but idle and iowait) of one CPU core since boot, in seconds. */
export async function coreBusySeconds(core: number): Promise<number | undefined> {
  try {
    const stat = await Deno.readTextFile("/proc/stat");
    const line = stat.split("\n").find((text) => text.startsWith(`cpu${core} `));
    if (line === undefined) return undefined;
    const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
    return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Core 0 counts as quiet when other processes use less than this share of it. */
export const QUIET_BELOW = 0.25;

/**
 * Waits (at most `maxWaitS` seconds) until other processes leave the server's core mostly
 * idle; the server itself must be idle then. Without pinning there is nothing to wait for.
 *
 * @returns The share of core 0 last seen busy, and how long the wait took in seconds.
 */
export async function waitQuiet(maxWaitS: number): Promise<{ busy: number; waitedS: number }> {
  const start = performance.now();
  let busy = 0;
  if (!PIN) return { busy, waitedS: 0 };
  for (;;) {
    const before = await coreBusySeconds(0);
    await delay(500);
    const after = await coreBusySeconds(0);
    if (before === undefined || after === undefined) return { busy: 0, waitedS: 0 };
    busy = (after - before) / 0.5;
    const waitedS = (performance.now() - start) / 1000;
    if (busy < QUIET_BELOW || waitedS >= maxWaitS) return { busy, waitedS };
    await delay(500);
  }
}

// ---------------------------------------------------------------------------------------------
// Servers: every one started is tracked, so that Ctrl-C stops it too.

/** A server process under test. */
export interface Server {
  readonly child: Deno.ChildProcess;
  readonly port: number;
  /** The exit status once the process has ended. */
  exited(): Deno.CommandStatus | undefined;
  /** The last lines the server printed, joined with " / " ("" when it printed nothing). */
  output(): string;
  /** Resolves once its output streams are drained. */
  readonly drained: Promise<void>;
}

const running = new Set<Server>();

/**
 * Starts `deno <args>` in `cwd` on core 0, with a clean environment plus `env` and a free
 * `PORT` (`freePort()` of `tests/_server.ts`: outside the ephemeral range); does not wait for it
 * to serve (see {@linkcode waitReady}).
 */
export function startServer(
  options: { cwd: string; args: string[]; env: Record<string, string> },
): Server {
  const port = freePort();
  const [cmd, args] = pinned(0, Deno.execPath(), options.args);
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    clearEnv: true,
    env: childEnv({ ...options.env, PORT: String(port) }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let status: Deno.CommandStatus | undefined;
  child.status.then((value) => status = value);
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const server: Server = {
    child,
    port,
    exited: () => status,
    output: () => `${stdout.text()}\n${stderr.text()}`.trim().split("\n").slice(-6).join(" / "),
    drained: Promise.all([stdout.done, stderr.done]).then(() => {}),
  };
  running.add(server);
  return server;
}

/** Stops a server (SIGTERM, then SIGKILL after a few seconds) and drains its output. */
export async function stopServer(server: Server): Promise<void> {
  if (!running.has(server)) return;
  const { child } = server;
  try {
    child.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  const stopped = await Promise.race([
    child.status.then(() => true),
    delay(STOP_TIMEOUT_MS).then(() => false),
  ]);
  if (!stopped) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
  }
  running.delete(server);
  await server.drained;
}

/** Stops every server still running, for a signal handler or a last clean-up. */
export async function stopAllServers(): Promise<void> {
  for (const server of running) await stopServer(server);
}

/** Waits until the server answers `GET /` at all. */
export async function waitReady(server: Server): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const status = server.exited();
    if (status !== undefined) throw new Error(`exited with code ${status.code} before serving`);
    try {
      const response = await fetch(`http://${HOST}:${server.port}/`, {
        signal: AbortSignal.timeout(1_000),
      });
      await response.body?.cancel();
      return;
    } catch {
      await delay(100);
    }
  }
  throw new Error(`not serving on port ${server.port} after ${READY_TIMEOUT_MS / 1000} s`);
}

// ---------------------------------------------------------------------------------------------
// Requests with fetch

/** What a request got back. */
export interface Reply {
  status: number;
  body: string;
  setCookies: string[];
}

/** Sends one request to the server on `port` (`Accept: text/plain`). */
export async function request(
  port: number,
  path: string,
  init: { method?: string; cookie?: string; form?: string } = {},
): Promise<Reply> {
  const headers = new Headers({ accept: "text/plain" });
  if (init.cookie) headers.set("cookie", init.cookie);
  if (init.form !== undefined) headers.set("content-type", "application/x-www-form-urlencoded");
  const response = await fetch(`http://${HOST}:${port}${path}`, {
    method: init.method ?? "GET",
    headers,
    body: init.form,
    redirect: "manual",
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  const body = await response.text();
  return { status: response.status, body, setCookies: response.headers.getSetCookie() };
}

/** Folds `Set-Cookie` headers into a `Cookie` header; a later cookie of a name wins. */
export function cookieHeader(setCookies: readonly string[], previous = ""): string {
  const jar = new Map<string, string>();
  for (const pair of previous.split("; ")) {
    const eq = pair.indexOf("=");
    if (eq > 0) jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  for (const header of setCookies) {
    const pair = header.split(";", 1)[0]!;
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const deleted = /;\s*max-age=0(;|$)/i.test(header) || value === "";
    if (deleted) jar.delete(name);
    else jar.set(name, value);
  }
  return [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
}

/** A reply in a few words, for error messages. */
export function describe(reply: Reply): string {
  const body = reply.body.length > 200 ? `${reply.body.slice(0, 200)}…` : reply.body;
  return `status ${reply.status}, body ${JSON.stringify(body)}`;
}

/**
 * POSTs a greeting.
 *
 * @returns The session cookie, as a `Cookie` header.
 * @throws {Error} When the answer is not 200 with the greeting, or sets no cookie.
 */
export async function greet(port: number): Promise<string> {
  const posted = await request(port, "/greeting", { method: "POST", form: FORM_BODY });
  if (posted.status !== 200 || !posted.body.includes(EXPECTED)) {
    throw new Error(`POST /greeting: expected 200 with "${EXPECTED}", got ${describe(posted)}`);
  }
  const cookie = cookieHeader(posted.setCookies);
  if (cookie === "") throw new Error("POST /greeting set no cookie");
  return cookie;
}

/**
 * Mints `count` distinct sessions through the server's own `POST /greeting`, a few requests
 * at a time, and checks that the first and the last open again.
 *
 * @returns One `Cookie` header per session.
 * @throws {Error} When a greeting or one of those checks fails.
 */
export async function mint(port: number, count: number): Promise<string[]> {
  const cookies: string[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      cookies[i] = await greet(port);
    }
  };
  await Promise.all(Array.from({ length: MINT_CONCURRENCY }, worker));
  for (const cookie of [cookies[0]!, cookies[count - 1]!]) {
    const read = await request(port, "/session-data", { cookie });
    if (read.status !== 200 || !read.body.includes(EXPECTED)) {
      throw new Error(
        `GET /session-data with a minted cookie: expected 200 with "${EXPECTED}", got ${
          describe(read)
        }`,
      );
    }
  }
  return cookies;
}

// ---------------------------------------------------------------------------------------------
// wrk

/** A wrk script that POSTs the greeting form, asking for `accept`. */
export function postScript(accept: string): string {
  return [
    'wrk.method = "POST"',
    `wrk.body = "${FORM_BODY}"`,
    'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"',
    `wrk.headers["Accept"] = "${accept}"`,
    "",
  ].join("\n");
}

/**
 * A wrk script for `GET /session-data`, asking for `accept`, that reads a file of `Cookie`
 * headers, one a line, given after `--`. Each request carries the next Cookie header of the
 * file, round and round: one visitor after another, as on a busy site, rather than one visitor
 * over and over.
 *
 * @param accept The `Accept` header.
 * @returns The script.
 */
export function rotateScript(accept: string): string {
  return ROTATE_SCRIPT.replace('"application/json"', JSON.stringify(accept));
}

/** {@linkcode rotateScript} asking for JSON. */
export const ROTATE_SCRIPT: string = [
  "local cookies = {}",
  "local i = 0",
  "function init(args)",
  "  for line in io.lines(args[1]) do",
  '    if line ~= "" then cookies[#cookies + 1] = line end',
  "  end",
  "end",
  "function request()",
  "  i = i % #cookies + 1",
  '  return wrk.format("GET", nil, { ["Accept"] = "application/json", ' +
  '["Cookie"] = cookies[i], ["Host"] = wrk.headers["Host"] })',
  "end",
  "",
].join("\n");

/** What one wrk run reports. */
export interface WrkStats {
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  socketErrors: number;
}

const UNITS_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

function parseLatency(output: string, percentile: string): number | undefined {
  const match = output.match(new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, "m"));
  return match ? Number(match[1]) * UNITS_MS[match[2]!]! : undefined;
}

function parseWrk(output: string): WrkStats | undefined {
  const reqPerSec = output.match(/^Requests\/sec:\s+([\d.]+)/m)?.[1];
  const requests = output.match(/^\s*(\d+) requests in /m)?.[1];
  const p50Ms = parseLatency(output, "50");
  const p99Ms = parseLatency(output, "99");
  if (reqPerSec === undefined || requests === undefined) return undefined;
  if (p50Ms === undefined || p99Ms === undefined) return undefined;
  const socket = output.match(
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/,
  );
  const socketErrors = socket ? socket.slice(1, 5).reduce((sum, n) => sum + Number(n), 0) : 0;
  const non2xx = Number(output.match(/Non-2xx or 3xx responses:\s+(\d+)/)?.[1] ?? 0);
  return {
    requests: Number(requests),
    reqPerSec: Number(reqPerSec),
    p50Ms,
    p99Ms,
    non2xx,
    socketErrors,
  };
}

/**
 * Runs wrk on core 1 for `seconds` against `url`, with `extra` options before the URL and
 * `tail` after it (what follows `--` goes to the script's `init()`).
 *
 * @returns Its figures (`undefined` when its output could not be read) and its output.
 */
export async function runWrk(
  seconds: number,
  url: string,
  extra: string[],
  tail: string[] = [],
): Promise<{ stats: WrkStats | undefined; output: string }> {
  const args = [
    `-t${THREADS}`,
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    "--latency",
    ...extra,
    url,
    ...tail,
  ];
  const [cmd, cmdArgs] = pinned(1, "wrk", args);
  let output: string;
  try {
    const result = await new Deno.Command(cmd, {
      args: cmdArgs,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
      signal: AbortSignal.timeout((seconds + 30) * 1000),
    }).output();
    output = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
  } catch (error) {
    return { stats: undefined, output: `wrk did not run: ${error}` };
  }
  return { stats: parseWrk(output), output };
}
