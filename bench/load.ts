/**
 * HTTP load test: starts each contender server (under `bench/load/`, plus the real service,
 * `main.ts`, in cookie, revocation and server-side store modes) on a free 127.0.0.1 port,
 * checks it answers a greeting correctly, drives it with `wrk`, and reports req/s, latency,
 * peak RSS and failures for four workloads, all with `Accept: application/json`:
 * `GET /session-data` with one valid session cookie repeated; `GET /session-data` rotating
 * through N distinct sessions (default 20,000), each minted beforehand through that server's
 * own `POST /greeting`, so that most requests carry a cookie the server has not opened lately,
 * as with many real visitors; `POST /greeting` with a form; and the same post asking for HTML
 * (service rows and their baseline only). Prints a Markdown report on stdout: the run's
 * settings, the tables, and the ratios it checks, PASS or FAIL; `--out=FILE` (or
 * `BENCH_RESULTS=FILE`) also writes it to that file, formatted as `deno fmt` would.
 * `bench/README.md` shows a dated table from such a run.
 *
 * ```sh
 * deno run -A bench/load.ts                    # 10 s per measurement
 * deno run -A bench/load.ts --out=/tmp/load.md # the report in a file too
 * BENCH_DURATION=2 deno run -A bench/load.ts   # quick run (or --duration=2)
 * BENCH_ROUNDS=3 deno run -A bench/load.ts     # best of 3 sweeps, on a busy machine (--rounds=3)
 * BENCH_SESSIONS=5000 deno run -A bench/load.ts  # distinct sessions of the many-visitors rows
 * BENCH_ONLY=secureJson,service deno run -A bench/load.ts  # only these rows (keys below)
 * ```
 *
 * `BENCH_QUIET_WAIT` (seconds, default 30) bounds the wait, before each measured run, for other
 * processes to leave the server's core mostly idle.
 *
 * Needs `wrk` on the PATH; uses `taskset` (when present, on 2+ cores) to pin the server to
 * core 0 and wrk to core 1. Exits with code 1 when a server failed its check or any request
 * failed (non-2xx/3xx status or socket error); rows of optional features the service does not
 * offer yet are reported as "not available" and do not fail the run.
 *
 * @module
 */

import {
  commandOutput,
  CONNECTIONS,
  coreBusySeconds,
  CORES,
  cpuModel,
  cpuSeconds,
  describe,
  EXPECTED,
  greet,
  HOST,
  loadAverage,
  mint,
  PIN,
  postScript,
  QUIET_BELOW,
  request,
  ROTATE_SCRIPT,
  runWrk,
  startServer,
  stopAllServers,
  stopServer,
  THREADS,
  waitQuiet,
  waitReady,
  type WrkStats,
} from "./_http_load.ts";
import {
  countRedisCommands,
  REDIS_SERVERS,
  REDIS_TARGETS,
  redisCommandsTable,
  stopBenchRedis,
} from "./load/redis_rows.ts";

const ROOT = new URL("../", import.meta.url);
const ROOT_DIR = decodeURIComponent(ROOT.pathname);
/**
 * A file to write the report to as well as stdout (`--out=FILE` or `BENCH_RESULTS`), relative to
 * where the command was started; none by default.
 */
const OUT_PATH = Deno.args.find((arg) => arg.startsWith("--out="))?.slice(6) ??
  Deno.env.get("BENCH_RESULTS");
const RESULTS_FILE = OUT_PATH ? new URL(OUT_PATH, `file://${Deno.cwd()}/`) : undefined;

/** Secret given to the service: 64 hex characters. */
const SERVICE_SECRET = "9c3b1f5e7a0d2c4b6e8f1a3c5e7b9d0f2a4c6e8b0d1f3a5c7e9b2d4f6a8c0e1b";

// ---------------------------------------------------------------------------------------------
// Configuration

/** A whole number from a `--flag=N` argument or else an environment variable. */
function readSetting(flag: string, variable: string, fallback: number, max: number): number {
  const arg = Deno.args.find((text) => text.startsWith(`--${flag}=`));
  const text = arg?.slice(flag.length + 3) ?? Deno.env.get(variable) ?? String(fallback);
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    console.error(`${variable} (--${flag}) must be a whole number from 1 to ${max}, got "${text}"`);
    Deno.exit(2);
  }
  return value;
}

/** Seconds of each measured wrk run. */
const DURATION = readSetting("duration", "BENCH_DURATION", 10, 600);
/** Sweeps over all servers; each row reports its best round (highest req/s). */
const ROUNDS = readSetting("rounds", "BENCH_ROUNDS", 1, 10);
/** Distinct sessions minted per server for the many-visitors workload. */
const SESSIONS = readSetting("sessions", "BENCH_SESSIONS", 20_000, 1_000_000);
/** Row keys to run (`BENCH_ONLY` or `--only`, comma-separated); all when unset. */
const ONLY = (Deno.args.find((arg) => arg.startsWith("--only="))?.slice(7) ??
  Deno.env.get("BENCH_ONLY"))?.split(",").map((key) => key.trim()).filter((key) => key !== "");
const WARMUP = DURATION >= 5 ? 2 : 1;

/** What a server is started with; `kvDir` is a fresh temporary folder for KV rows. */
interface Launch {
  args: string[];
  env: Record<string, string>;
}

interface ServerSpec {
  /** Row key, used by the targets. */
  key: string;
  label: string;
  /** Needs a temporary Deno KV file (`SESSION_KV`). */
  kv: boolean;
  /** Keeps session data server-side: the cookie must be smaller than in cookie mode. */
  store?: boolean;
  /**
   * A feature still being built: failing to start (or the feature not taking effect) makes
   * the row "not available" instead of failing the run.
   */
  optional: boolean;
  launch(kvDir: string | undefined): Launch;
}

const SERVICE_ARGS = ["run", "--allow-net", "--allow-env", "--allow-read", "main.ts"];
const SERVICE_ENV = { HOSTNAME: HOST, SESSION_SECRET: SERVICE_SECRET };

function benchServer(file: string): (kvDir: string | undefined) => Launch {
  return () => ({ args: ["run", "-A", `bench/load/${file}`], env: {} });
}

function kvPath(kvDir: string | undefined): string {
  if (kvDir === undefined) throw new Error("a KV row needs a temporary folder");
  return `${kvDir}/sessions.sqlite3`;
}

function serviceWithKv(kvDir: string | undefined, extra: Record<string, string>): Launch {
  const args = [...SERVICE_ARGS.slice(0, -1), `--allow-write=${kvDir}`, "main.ts"];
  return { args, env: { ...SERVICE_ENV, SESSION_KV: kvPath(kvDir), ...extra } };
}

const SERVERS: readonly ServerSpec[] = [
  {
    key: "bare",
    label: "(1) bare Hono",
    kv: false,
    optional: false,
    launch: benchServer("bare.ts"),
  },
  {
    key: "secure",
    label: "(2) bare + secureHeaders()",
    kv: false,
    optional: false,
    launch: benchServer("bare_secure_headers.ts"),
  },
  {
    key: "secureJson",
    label: "(2j) bare + secureHeaders(), fixed JSON, reads no cookie",
    kv: false,
    optional: false,
    launch: benchServer("bare_secure_json.ts"),
  },
  {
    key: "ours",
    label: "(3) our session middleware",
    kv: false,
    optional: false,
    launch: benchServer("ours.ts"),
  },
  {
    key: "honoSession",
    label: "(4a) @hono/session 0.2.1",
    kv: false,
    optional: false,
    launch: benchServer("hono_session.ts"),
  },
  {
    key: "honoSessions",
    label: "(4b) hono-sessions 0.8.1",
    kv: false,
    optional: false,
    launch: benchServer("hono_sessions.ts"),
  },
  {
    key: "service",
    label: "(5) service (main.ts), cookie mode",
    kv: false,
    optional: false,
    launch: () => ({ args: SERVICE_ARGS, env: SERVICE_ENV }),
  },
  {
    key: "revocation",
    label: "(6a) service + revocation (SESSION_KV)",
    kv: true,
    optional: true,
    launch: (kvDir) => serviceWithKv(kvDir, {}),
  },
  {
    key: "store",
    label: "(6b) service + KV store (SESSION_STORE=kv)",
    kv: true,
    store: true,
    optional: true,
    launch: (kvDir) => serviceWithKv(kvDir, { SESSION_STORE: "kv" }),
  },
  ...REDIS_SERVERS,
];

interface Workload {
  key: "get" | "getMany" | "post" | "postHtml";
  title: string;
  /** Only these rows; all when absent. */
  servers?: readonly string[];
}

const WORKLOADS: readonly Workload[] = [
  { key: "get", title: "GET /session-data, one session cookie repeated (Accept: JSON)" },
  {
    key: "getMany",
    title: `GET /session-data, ${SESSIONS} distinct sessions rotating (Accept: JSON)`,
  },
  {
    key: "post",
    title: "POST /greeting (form name=Ada&lastname=Lovelace, no cookie, Accept: JSON)",
  },
  {
    key: "postHtml",
    title: "POST /greeting, HTML answer (Accept: text/html)",
    servers: ["secure", "secureJson", "service"],
  },
];

// ---------------------------------------------------------------------------------------------
// Results

type RowResult =
  | (
    & {
      status: "ok";
      rssMiB: number | undefined;
      /** Share of one core the server used during the measured run. */
      cpuShare: number | undefined;
      /** Requests per second of server CPU time: throughput that other load skews less. */
      reqPerCpuSec: number | undefined;
      /** Share of the server's core used by other processes during the measured run. */
      othersShare: number | undefined;
      notes: string[];
    }
    & WrkStats
  )
  | { status: "failed" | "unavailable"; reason: string; notes: string[] };

const results = new Map<string, RowResult>(); // `${workload}:${server}`

/**
 * Merges a row's new round into its earlier ones: the round with the highest req/s gives the
 * figures (the one least disturbed by other load), failures add up over all rounds, peak RSS
 * is the highest seen.
 */
function combine(earlier: RowResult | undefined, latest: RowResult): RowResult {
  if (earlier === undefined || earlier.status !== "ok") return latest;
  if (latest.status !== "ok") return { ...latest, notes: [...earlier.notes, ...latest.notes] };
  const best = latest.reqPerSec > earlier.reqPerSec ? latest : earlier;
  const rss = [earlier.rssMiB, latest.rssMiB].filter((value) => value !== undefined);
  return {
    ...best,
    non2xx: earlier.non2xx + latest.non2xx,
    socketErrors: earlier.socketErrors + latest.socketErrors,
    rssMiB: rss.length > 0 ? Math.max(...rss) : undefined,
    // The best round's notes, plus warm-up failures of any round.
    notes: [
      ...best.notes,
      ...(best === latest ? earlier : latest).notes.filter((note) => note.startsWith("warm-up")),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Processes: every server and temporary folder is tracked so that Ctrl-C removes it too.

const tempPaths = new Set<string>();

async function cleanUp(): Promise<void> {
  await stopAllServers();
  for (const path of tempPaths) await Deno.remove(path, { recursive: true }).catch(() => {});
  tempPaths.clear();
  await stopBenchRedis();
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    console.error(`\n${signal}: stopping servers`);
    cleanUp().finally(() => Deno.exit(130));
  });
}

/** Longest wait for core 0 to become quiet before a measured run, in seconds. */
const QUIET_WAIT_S = Number(Deno.env.get("BENCH_QUIET_WAIT") ?? "30") || 0;

async function peakRssMiB(pid: number): Promise<number | undefined> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const kib = status.match(/^VmHWM:\s+(\d+)\s+kB$/m)?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Checks with fetch

class CheckError extends Error {
  /** The failure means the optional feature is missing rather than broken. */
  readonly unavailable: boolean;
  constructor(message: string, unavailable = false) {
    super(message);
    this.unavailable = unavailable;
  }
}

/** Size of the `Cookie` header each server's check obtained, by row key. */
const cookieBytes = new Map<string, number>();

interface CheckOutcome {
  cookie: string;
  notes: string[];
}

/**
 * Checks a server: a greeting, then the session data with the cookie it set. For KV rows,
 * also checks that a logged-out cookie stops working (else the KV layer is not in effect).
 */
async function check(port: number, spec: ServerSpec): Promise<CheckOutcome> {
  const cookie = await greet(port);
  const read = await request(port, "/session-data", { cookie });
  if (read.status !== 200 || !read.body.includes(EXPECTED)) {
    throw new CheckError(
      `GET /session-data with the cookie: expected 200 with "${EXPECTED}", got ${describe(read)}`,
    );
  }
  const bytes = new TextEncoder().encode(cookie).length;
  cookieBytes.set(spec.key, bytes);
  const notes = [
    `Cookie header ${bytes} B`,
    read.setCookies.length > 0 ? "GET /session-data answers with Set-Cookie" : "",
  ].filter((note) => note !== "");

  if (spec.kv) {
    // A second session, so the one wrk replays stays valid.
    const other = await greet(port);
    const out = await request(port, "/logout", { method: "POST", cookie: other });
    if (out.status < 200 || out.status > 399) {
      throw new CheckError(`POST /logout: expected 2xx/3xx, got ${describe(out)}`);
    }
    const replay = await request(port, "/session-data", { cookie: other });
    if (replay.status === 200 && replay.body.includes(EXPECTED)) {
      throw new CheckError(
        "the KV layer is not in effect: a logged-out cookie, replayed, still opens the " +
          "session (SESSION_KV not implemented yet?)",
        true,
      );
    }
    if (replay.status !== 200) {
      throw new CheckError(`GET /session-data after logout: expected 200, got ${describe(replay)}`);
    }
    notes.push("a replayed logged-out cookie is refused");
  }
  const cookieMode = cookieBytes.get("service");
  if (spec.store && cookieMode !== undefined && bytes >= cookieMode) {
    throw new CheckError(
      `the server-side store is not in effect: the cookie (${bytes} B) is not smaller than in ` +
        `cookie mode (${cookieMode} B), so it still carries the data (SESSION_STORE ignored?)`,
      true,
    );
  }
  return { cookie, notes };
}

// ---------------------------------------------------------------------------------------------
// One server, one workload

/** The wrk Lua scripts, in a temporary folder. */
interface Scripts {
  dir: string;
  postJson: string;
  postHtml: string;
  rotate: string;
}

async function measure(
  spec: ServerSpec,
  workload: Workload,
  scripts: Scripts,
): Promise<RowResult> {
  let kvDir: string | undefined;
  if (spec.kv) {
    kvDir = await Deno.makeTempDir({ prefix: "sealed-load-kv-" });
    tempPaths.add(kvDir);
  }
  const launch = spec.launch(kvDir);
  const server = startServer({ cwd: ROOT_DIR, args: launch.args, env: launch.env });
  const { child, port } = server;
  const serverOutput = () => {
    const text = server.output();
    return text === "" ? "" : `; server output: ${text}`;
  };

  try {
    try {
      await waitReady(server);
    } catch (error) {
      const reason = `${(error as Error).message}${serverOutput()}`;
      return { status: spec.optional ? "unavailable" : "failed", reason, notes: [] };
    }

    let checked: CheckOutcome;
    try {
      checked = await check(port, spec);
    } catch (error) {
      const unavailable = error instanceof CheckError && error.unavailable && spec.optional;
      const reason = `check failed: ${(error as Error).message}${serverOutput()}`;
      return { status: unavailable ? "unavailable" : "failed", reason, notes: [] };
    }

    const isGet = workload.key === "get" || workload.key === "getMany";
    const url = `http://${HOST}:${port}${isGet ? "/session-data" : "/greeting"}`;
    const notes = [...checked.notes];
    let extra: string[];
    let cookieFile: string | undefined;
    if (workload.key === "getMany") {
      let cookies: string[];
      const started = performance.now();
      try {
        cookies = await mint(port, SESSIONS);
      } catch (error) {
        const reason = `minting ${SESSIONS} sessions failed: ${(error as Error).message}` +
          serverOutput();
        return { status: "failed", reason, notes };
      }
      const distinct = new Set(cookies).size;
      notes.push(
        `${SESSIONS} sessions minted in ${Math.round((performance.now() - started) / 1000)} s, ` +
          `${distinct} distinct Cookie headers`,
      );
      cookieFile = `${scripts.dir}/cookies-${spec.key}.txt`;
      await Deno.writeTextFile(cookieFile, cookies.join("\n") + "\n");
      extra = ["-s", scripts.rotate];
    } else if (workload.key === "get") {
      extra = ["-H", "Accept: application/json", "-H", `Cookie: ${checked.cookie}`];
    } else {
      extra = ["-s", workload.key === "post" ? scripts.postJson : scripts.postHtml];
    }
    // wrk passes what follows `--` to the script's init().
    const tail = cookieFile === undefined ? [] : ["--", cookieFile];
    const warm = await runWrk(WARMUP, url, extra, tail);
    if (warm.stats && warm.stats.non2xx + warm.stats.socketErrors > 0) {
      notes.push(
        `warm-up: ${warm.stats.non2xx} non-2xx/3xx, ${warm.stats.socketErrors} socket errors`,
      );
    }
    const quiet = await waitQuiet(QUIET_WAIT_S);
    if (quiet.busy >= QUIET_BELOW) {
      notes.push(
        `core 0 was still ${Math.round(quiet.busy * 100)}% busy with other work after waiting ` +
          `${QUIET_WAIT_S} s for it to calm down`,
      );
    } else if (quiet.waitedS >= 1) {
      notes.push(`waited ${Math.round(quiet.waitedS)} s for core 0 to be free of other work`);
    }
    const commands = await countRedisCommands(workload.key, spec.key);
    const coreBefore = await coreBusySeconds(0);
    const cpuBefore = await cpuSeconds(child.pid);
    const started = performance.now();
    const run = await runWrk(DURATION, url, extra, tail);
    const elapsed = (performance.now() - started) / 1000;
    const cpuAfter = await cpuSeconds(child.pid);
    const coreAfter = await coreBusySeconds(0);
    if (run.stats) await commands?.(run.stats.requests);
    const cpuUsed = cpuBefore === undefined || cpuAfter === undefined
      ? undefined
      : cpuAfter - cpuBefore;
    const cpuShare = cpuUsed === undefined ? undefined : cpuUsed / elapsed;
    const othersShare = !PIN || cpuUsed === undefined || coreBefore === undefined ||
        coreAfter === undefined
      ? undefined
      : Math.max(0, coreAfter - coreBefore - cpuUsed) / elapsed;
    const rssMiB = await peakRssMiB(child.pid);
    const exitStatus = server.exited();
    if (exitStatus !== undefined) {
      return {
        status: "failed",
        reason: `the server exited (code ${exitStatus.code}) during the load${serverOutput()}`,
        notes,
      };
    }
    if (run.stats === undefined) {
      return { status: "failed", reason: `could not read wrk's output: ${run.output}`, notes };
    }
    const reqPerCpuSec = cpuUsed ? run.stats.requests / cpuUsed : undefined;
    return { status: "ok", rssMiB, cpuShare, reqPerCpuSec, othersShare, notes, ...run.stats };
  } finally {
    await stopServer(server);
    if (kvDir !== undefined) {
      await Deno.remove(kvDir, { recursive: true }).catch(() => {});
      tempPaths.delete(kvDir);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

function percent(share: number | undefined): string {
  return share === undefined ? "n/a" : `${Math.round(share * 100)}%`;
}

function ms(value: number): string {
  return value < 10 ? `${fixed(value, 2)} ms` : `${fixed(value, 1)} ms`;
}

function get(workload: string, server: string): RowResult | undefined {
  return results.get(`${workload}:${server}`);
}

function reqPerSec(workload: string, server: string): number | undefined {
  const row = get(workload, server);
  return row?.status === "ok" ? row.reqPerSec : undefined;
}

function reqPerCpuSec(workload: string, server: string): number | undefined {
  const row = get(workload, server);
  return row?.status === "ok" ? row.reqPerCpuSec : undefined;
}

/** Below this share of its core, a server was starved by other load (or wrk was the limit). */
const STARVED_BELOW = 0.8;

function ratio(value: number, base: number | undefined): string {
  return base === undefined || base === 0 ? "—" : `${fixed(value / base, 2)}×`;
}

function table(workload: Workload): string {
  const lines = [
    `## ${workload.title}`,
    "",
    "| server | req/s | vs (1) bare | vs (2) bare+secureHeaders | vs (2j) fixed JSON | p50 | " +
    "p99 | peak RSS MiB | non-2xx | server CPU | others on core 0 | req per CPU-s |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  const bare = reqPerSec(workload.key, "bare");
  const secure = reqPerSec(workload.key, "secure");
  const secureJson = reqPerSec(workload.key, "secureJson");
  const notes: string[] = [];
  const starved: string[] = [];
  for (const spec of SERVERS) {
    const row = get(workload.key, spec.key);
    if (row === undefined) continue;
    if (row.status === "ok") {
      const failures = row.non2xx + row.socketErrors;
      const failureText = row.socketErrors > 0
        ? `${row.non2xx} (+${row.socketErrors} socket errors)`
        : String(failures);
      lines.push(
        `| ${spec.label} | ${Math.round(row.reqPerSec)} | ${ratio(row.reqPerSec, bare)} | ` +
          `${ratio(row.reqPerSec, secure)} | ${ratio(row.reqPerSec, secureJson)} | ` +
          `${ms(row.p50Ms)} | ${ms(row.p99Ms)} | ` +
          `${row.rssMiB === undefined ? "n/a" : fixed(row.rssMiB, 1)} | ${failureText} | ` +
          `${percent(row.cpuShare)} | ${percent(row.othersShare)} | ` +
          `${row.reqPerCpuSec === undefined ? "n/a" : Math.round(row.reqPerCpuSec)} |`,
      );
    } else {
      const word = row.status === "failed" ? "FAILED" : "not available";
      lines.push(`| ${spec.label} | ${word} | — | — | — | — | — | — | — | — | — | — |`);
      notes.push(`${spec.label}: ${word}: ${row.reason}`);
    }
    if (row.notes.length > 0) notes.push(`${spec.label}: ${row.notes.join("; ")}.`);
    if (row.status === "ok" && row.cpuShare !== undefined && row.cpuShare < STARVED_BELOW) {
      starved.push(spec.label.split(" ")[0]!);
    }
  }
  if (starved.length > 0) {
    notes.unshift(
      `**Warning**: server CPU under ${STARVED_BELOW * 100}% for ${starved.join(", ")}: their ` +
        "req/s is skewed by other load on the machine (or capped by wrk, for the fastest " +
        "rows); compare req per CPU-s, or re-run when the machine is idle.",
    );
  }
  if (notes.length > 0) lines.push("", ...notes.map((note) => `- ${note}`));
  return lines.join("\n");
}

interface Target {
  text: string;
  workload: string;
  server: string;
  base: string;
  min: number;
}

const TARGETS: readonly Target[] = [
  {
    text: `(5) service ≥ 0.85× (2j) fixed JSON on GET /session-data, ${SESSIONS} sessions`,
    workload: "getMany",
    server: "service",
    base: "secureJson",
    min: 0.85,
  },
  {
    text: `(5) service ≥ 0.7× (2j) fixed JSON on GET /session-data, ${SESSIONS} sessions (floor)`,
    workload: "getMany",
    server: "service",
    base: "secureJson",
    min: 0.7,
  },
  {
    text: `(5) service ≥ 5× (4a) @hono/session on GET /session-data, ${SESSIONS} sessions`,
    workload: "getMany",
    server: "service",
    base: "honoSession",
    min: 5,
  },
  {
    text: "(5) service ≥ 0.85× (2j) fixed JSON on GET /session-data, one cookie",
    workload: "get",
    server: "service",
    base: "secureJson",
    min: 0.85,
  },
  {
    text: "(5) service ≥ 0.8× (2j) on POST /greeting, JSON answer",
    workload: "post",
    server: "service",
    base: "secureJson",
    min: 0.8,
  },
  {
    text: "(5) service ≥ 0.6× (2j) on POST /greeting, HTML answer (theirs: text)",
    workload: "postHtml",
    server: "service",
    base: "secureJson",
    min: 0.6,
  },
  {
    text: "(5) service ≥ 0.7× (2) bare+secureHeaders on GET /session-data",
    workload: "get",
    server: "service",
    base: "secure",
    min: 0.7,
  },
  {
    text: "(5) service ≥ 0.5× (2) bare+secureHeaders on POST /greeting",
    workload: "post",
    server: "service",
    base: "secure",
    min: 0.5,
  },
  {
    text: "(3) our middleware ≥ 0.5× (1) bare on GET /session-data",
    workload: "get",
    server: "ours",
    base: "bare",
    min: 0.5,
  },
  {
    text: "(3) our middleware ≥ 5× (4a) @hono/session on GET /session-data",
    workload: "get",
    server: "ours",
    base: "honoSession",
    min: 5,
  },
  {
    text: "(6a) revocation on ≥ 0.7× (5) revocation off on GET /session-data",
    workload: "get",
    server: "revocation",
    base: "service",
    min: 0.7,
  },
  {
    text: `(6a) revocation on ≥ 0.7× (5) revocation off on GET, ${SESSIONS} sessions`,
    workload: "getMany",
    server: "revocation",
    base: "service",
    min: 0.7,
  },
  ...REDIS_TARGETS,
];

/** One cookie against many, side by side, for every row that ran both. */
function visitorsTable(): string {
  const lines = [
    `## One visitor against ${SESSIONS} visitors: GET /session-data (Accept: JSON)`,
    "",
    "| server | one cookie req/s | vs (2j) | distinct cookies req/s | vs (2j) | many ÷ one |",
    "|---|--:|--:|--:|--:|--:|",
  ];
  const oneBase = reqPerSec("get", "secureJson");
  const manyBase = reqPerSec("getMany", "secureJson");
  for (const spec of SERVERS) {
    const one = reqPerSec("get", spec.key);
    const many = reqPerSec("getMany", spec.key);
    if (one === undefined && many === undefined) continue;
    const show = (value: number | undefined) =>
      value === undefined ? "—" : String(Math.round(value));
    lines.push(
      `| ${spec.label} | ${show(one)} | ${one === undefined ? "—" : ratio(one, oneBase)} | ` +
        `${show(many)} | ${many === undefined ? "—" : ratio(many, manyBase)} | ` +
        `${one === undefined || many === undefined ? "—" : ratio(many, one)} |`,
    );
  }
  return lines.join("\n");
}

function targetLines(): string[] {
  const lines = [
    "## Targets",
    "",
    "PASS/FAIL is decided on req/s, as specified; the same ratio on req per CPU-s is shown " +
    "beside it because it is far less sensitive to other load on the machine.",
    "",
    "| target | req/s ratio | result | req per CPU-s ratio | result (per CPU-s) |",
    "|---|--:|---|--:|---|",
  ];
  for (const target of TARGETS) {
    const value = reqPerSec(target.workload, target.server);
    const base = reqPerSec(target.workload, target.base);
    if (value === undefined || base === undefined) {
      const missing = [target.server, target.base]
        .filter((key) => reqPerSec(target.workload, key) === undefined)
        .map((key) => {
          const spec = SERVERS.find((s) => s.key === key)!;
          const row = get(target.workload, key);
          return `${spec.label.split(" ")[0]} ${
            row === undefined ? "not run" : row.status === "ok" ? "missing" : row.status
          }`;
        });
      lines.push(`| ${target.text} | — | N/A (${missing.join(", ")}) | — | N/A |`);
      continue;
    }
    const measured = value / base;
    const cpuValue = reqPerCpuSec(target.workload, target.server);
    const cpuBase = reqPerCpuSec(target.workload, target.base);
    const cpuRatio = cpuValue !== undefined && cpuBase ? cpuValue / cpuBase : undefined;
    lines.push(
      `| ${target.text} | ${fixed(measured, 2)}× | ${verdict(measured, target.min)} | ` +
        `${cpuRatio === undefined ? "—" : `${fixed(cpuRatio, 2)}×`} | ` +
        `${cpuRatio === undefined ? "N/A" : verdict(cpuRatio, target.min)} |`,
    );
  }
  return lines;
}

function verdict(measured: number, min: number): string {
  return measured >= min ? "PASS" : "FAIL";
}

// ---------------------------------------------------------------------------------------------
// Main

if ((await commandOutput("wrk", ["-v"])) === undefined) {
  console.error("wrk is not installed (apt-get install wrk)");
  Deno.exit(2);
}

const loadBefore = await loadAverage();
const [date, cpu, denoVersion, wrkVersion] = await Promise.all([
  commandOutput("date", ["-u"]),
  cpuModel(),
  commandOutput(Deno.execPath(), ["--version"]),
  commandOutput("wrk", ["-v"]),
]);

const scriptDir = await Deno.makeTempDir({ prefix: "sealed-load-" });
tempPaths.add(scriptDir);
const scripts: Scripts = {
  dir: scriptDir,
  postJson: `${scriptDir}/post_json.lua`,
  postHtml: `${scriptDir}/post_html.lua`,
  rotate: `${scriptDir}/rotate_cookies.lua`,
};
await Deno.writeTextFile(scripts.postJson, postScript("application/json"));
await Deno.writeTextFile(scripts.postHtml, postScript("text/html"));
await Deno.writeTextFile(scripts.rotate, ROTATE_SCRIPT);

try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const workload of WORKLOADS) {
      for (const spec of SERVERS) {
        if (workload.servers && !workload.servers.includes(spec.key)) continue;
        if (ONLY && !ONLY.includes(spec.key)) continue;
        const key = `${workload.key}:${spec.key}`;
        const earlier = results.get(key);
        // A row that failed or is not available stays so: no need to try it again.
        if (earlier !== undefined && earlier.status !== "ok") continue;
        const which = ROUNDS > 1 ? ` (round ${round}/${ROUNDS})` : "";
        console.error(`[load] ${workload.key.toUpperCase()} ${spec.label}${which} …`);
        const row = await measure(spec, workload, scripts);
        results.set(key, combine(earlier, row));
        console.error(
          row.status === "ok"
            ? `[load]   ${Math.round(row.reqPerSec)} req/s, p99 ${ms(row.p99Ms)}, ` +
              `${row.non2xx + row.socketErrors} failures`
            : `[load]   ${row.status}: ${row.reason}`,
        );
      }
    }
  }
} finally {
  await cleanUp();
}

const loadAfter = await loadAverage();
const header = [
  "# Load test results",
  "",
  `- Date: ${date ?? "unknown"}`,
  `- CPU: ${cpu}, ${CORES} logical cores; ` +
  (PIN ? "server pinned to core 0, wrk to core 1 (taskset)" : "no CPU pinning"),
  `- Load average (1/5/15 min) before: ${loadBefore}, after: ${loadAfter} ` +
  "(other work on the machine skews the numbers)",
  `- Deno: ${denoVersion?.split("\n")[0] ?? "unknown"}`,
  `- wrk: ${wrkVersion?.split("\n")[0]?.split(" Copyright")[0] ?? "unknown"}; ` +
  `\`-t${THREADS} -c${CONNECTIONS} -d${DURATION}s --latency\` after a ${WARMUP} s warm-up ` +
  "on a fresh server per row and workload" +
  (ROUNDS > 1
    ? `; ${ROUNDS} rounds over all servers, each row showing its best round (highest req/s; ` +
      "non-2xx summed over rounds, peak RSS the highest)"
    : ""),
  "- server CPU: CPU time the server process used during the measured run, as a share of one " +
  "core; well under 100% means other load on the machine starved it (or wrk was the limit). " +
  "others on core 0: CPU time other processes took on the server's core meanwhile. Before " +
  `each measured run the script waits up to ${QUIET_WAIT_S} s (BENCH_QUIET_WAIT) for core 0 ` +
  `to be under ${QUIET_BELOW * 100}% busy.`,
  "- Requests send `Accept: application/json` (text/html in the HTML rows) and no `Origin`; " +
  'every server is checked once with fetch (200 and "Ada Lovelace") before the load. The ' +
  `bench contenders answer JSON when asked, as the service does. Many-visitors rows: ${SESSIONS} ` +
  "sessions minted through the server's own `POST /greeting` (fresh server, so none of them " +
  "was opened before), then a wrk Lua script sends the next Cookie header on each request, " +
  "round and round (warm-up included). Row (2j) answers the same JSON without reading any " +
  "cookie: the ceiling for the service's JSON answers.",
  `- Command: \`${DURATION === 10 ? "" : `BENCH_DURATION=${DURATION} `}` +
  `${ROUNDS === 1 ? "" : `BENCH_ROUNDS=${ROUNDS} `}` +
  `${SESSIONS === 20_000 ? "" : `BENCH_SESSIONS=${SESSIONS} `}` +
  `${ONLY ? `BENCH_ONLY=${ONLY.join(",")} ` : ""}deno run -A bench/load.ts\``,
].join("\n");

const report = [
  header,
  visitorsTable(),
  ...WORKLOADS.filter((workload) =>
    [...results.keys()].some((key) => key.startsWith(`${workload.key}:`))
  )
    .map(table),
  redisCommandsTable(),
  targetLines().join("\n"),
].filter((part) => part !== "").join("\n\n") + "\n";
console.log(report);
if (RESULTS_FILE) {
  await Deno.writeTextFile(RESULTS_FILE, report);
  // Formatted as `deno fmt` wants it (aligned tables).
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", decodeURIComponent(RESULTS_FILE.pathname)],
    cwd: ROOT_DIR,
    stdout: "null",
    stderr: "inherit",
    signal: AbortSignal.timeout(30_000),
  }).output().catch(() => {});
  console.error(`[load] written to ${decodeURIComponent(RESULTS_FILE.pathname)}`);
}

const failed = [...results.values()].some((row) =>
  row.status === "failed" || (row.status === "ok" && row.non2xx + row.socketErrors > 0)
);
Deno.exit(failed ? 1 : 0);
