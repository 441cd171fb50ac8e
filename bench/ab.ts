/**
 * Interleaved A/B benchmark of two checkouts of this repository: this one (B, "current")
 * against another (A, "base", e.g. `git worktree add --detach /tmp/base main`). Each side runs
 * from its own tree, so each uses its own code, API and dependencies.
 *
 * - Load, many visitors: per server row (the middleware alone, `bench/load/ours.ts`, and the
 *   service, `main.ts` in cookie mode), one server of each side, both running at once and both
 *   pinned to core 0; N distinct sessions minted through each server's own `POST /greeting`.
 *   Then per workload (`GET /session-data` with the next of those cookies on each request,
 *   then `POST /greeting` without a cookie, a seal per request): a short warm-up of each
 *   server, then many short bursts of wrk (pinned to core 1) against one server at a time, in
 *   the order A B B A, repeated. Each burst gives its server's CPU time over the burst
 *   divided by the requests it completed; each adjacent A and B burst make a pair, and the pair
 *   gives B/A. The other server idles meanwhile; its CPU over the other's bursts is reported,
 *   to show that it takes nothing from the one under load. The bursts are shared out over a few
 *   such pairs of servers in turn (`--servers`), fresh processes each, because two processes
 *   of the same code can differ by a few percent for as long as they live.
 * - Seal micro-benchmark: each side's own `bench/seal_bench.ts` under `deno bench --json`,
 *   several rounds, A first in odd rounds and B first in even ones; cases matched by group and
 *   name, compared on the median over rounds of their average time per iteration and of their
 *   fastest iteration.
 *
 * Short alternating bursts put A and B on nearly the same machine: the load that other work
 * puts on it changes over seconds and minutes, and the A B B A order cancels a steady drift
 * within each group of four. The load tables give, per row, the median CPU per request of each
 * side, the median of the per-pair ratios with their interquartile range, a bootstrap interval
 * of that median and how many pairs had B slower. Prints Markdown; `--out=FILE` writes it to a
 * file too.
 *
 * ```sh
 * git worktree add --detach /tmp/base main
 * deno run -A bench/ab.ts --base=/tmp/base                 # or: deno task bench:ab --base=…
 * deno run -A bench/ab.ts --base=/tmp/base --bursts=60 --out=/tmp/ab.md
 * deno run -A bench/ab.ts --base=/tmp/base --only=seal     # or --only=load; --no-post
 * ```
 *
 * Options: `--bursts=K` A/B pairs of bursts per load row (default 30; fewer than 10 is flagged
 * as too few for a verdict), `--servers=G` pairs of servers they are shared out over (default
 * 3), `--burst=S` seconds per burst (default 1), `--warmup=S` seconds of warm-up per server
 * and workload (default 2), `--sessions=N` distinct sessions per server (default 20,000),
 * `--seal-rounds=N` (default 7; fewer than 5 is flagged), `--only=load|seal`, `--no-post`
 * (skip the `POST /greeting` rows), `--html` (add the service's `GET /session-data` as its
 * HTML page), `--out=FILE`.
 *
 * Needs `wrk` on the PATH and Linux's `/proc` for the load part; uses `taskset` when present
 * (2+ cores). Exits with code 1 when something failed to run (a server that did not start or
 * answered wrongly, a request that failed under load, `deno bench` failing), 2 on wrong usage;
 * a slower B is reported, not judged.
 *
 * @module
 */

import {
  childEnv,
  commandOutput,
  CONNECTIONS,
  coreBusySeconds,
  CORES,
  cpuBetween,
  cpuModel,
  type CpuSample,
  cpuSample,
  cpuSeconds,
  HOST,
  loadAverage,
  mint,
  PIN,
  postScript,
  ROTATE_SCRIPT,
  rotateScript,
  runWrk,
  type Server,
  startServer,
  stopAllServers,
  stopServer,
  THREADS,
  waitReady,
  type WrkStats,
} from "./_http_load.ts";

const ROOT_DIR = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");
/** Secret given to the service on both sides: 64 hex characters. */
const SERVICE_SECRET = "9c3b1f5e7a0d2c4b6e8f1a3c5e7b9d0f2a4c6e8b0d1f3a5c7e9b2d4f6a8c0e1b";
/** Fewer pairs of bursts than this are flagged: their median and interval say little. */
const MIN_PAIRS = 10;
/** Fewer seal rounds than this are flagged, likewise. */
const MIN_SEAL_ROUNDS = 5;
const SEAL_BENCH = "bench/seal_bench.ts";
const SEAL_TIMEOUT_MS = 15 * 60_000;

// ---------------------------------------------------------------------------------------------
// Configuration

const USAGE = "Usage: deno run -A bench/ab.ts --base=DIR [--bursts=K] [--servers=G] [--burst=S] " +
  "[--warmup=S] [--sessions=N] [--seal-rounds=N] [--only=load|seal] [--no-post] [--html] [--out=FILE]";

function usageError(message: string): never {
  console.error(`${message}\n${USAGE}`);
  Deno.exit(2);
}

const KNOWN = [
  "base",
  "bursts",
  "servers",
  "burst",
  "warmup",
  "sessions",
  "seal-rounds",
  "only",
  "out",
];
const flags = new Map<string, string>();
let withPost = true;
let withHtml = false;
for (const arg of Deno.args) {
  if (arg === "--help" || arg === "-h") {
    console.log(USAGE);
    Deno.exit(0);
  }
  if (arg === "--no-post") {
    withPost = false;
    continue;
  }
  if (arg === "--html") {
    withHtml = true;
    continue;
  }
  const match = arg.match(/^--([a-z-]+)=(.*)$/);
  if (!match || !KNOWN.includes(match[1]!)) usageError(`Cannot run: unknown argument "${arg}"`);
  flags.set(match[1]!, match[2]!);
}

function wholeNumber(flag: string, fallback: number, min: number, max: number): number {
  const text = flags.get(flag) ?? String(fallback);
  const value = Number(text);
  if (text === "" || !Number.isInteger(value) || value < min || value > max) {
    usageError(
      `Cannot run: --${flag} must be a whole number from ${min} to ${max}, received "${text}"`,
    );
  }
  return value;
}

/** A/B pairs of bursts per load row. */
const PAIRS = wholeNumber("bursts", 30, 1, 1000);
/** Pairs of server processes per row, one after the other, sharing the row's bursts. */
const GENERATIONS = wholeNumber("servers", 3, 1, PAIRS);
/** Seconds per burst: short, so that A and B see nearly the same machine. */
const BURST_S = wholeNumber("burst", 1, 1, 60);
const WARMUP_S = wholeNumber("warmup", 2, 0, 600);
const SESSIONS = wholeNumber("sessions", 20_000, 1, 1_000_000);
const SEAL_ROUNDS = wholeNumber("seal-rounds", 7, 1, 100);
const ONLY = flags.get("only");
if (ONLY !== undefined && ONLY !== "load" && ONLY !== "seal") {
  usageError(`Cannot run: --only must be "load" or "seal", received "${ONLY}"`);
}
const RUN_LOAD = ONLY !== "seal";
const RUN_SEAL = ONLY !== "load";
if (RUN_LOAD) {
  if ((await commandOutput("wrk", ["-v"])) === undefined) {
    usageError("Cannot run the load part: wrk is not installed (apt-get install wrk)");
  }
  if ((await cpuSeconds(Deno.pid)) === undefined) {
    usageError("Cannot run the load part: server CPU time needs Linux's /proc/PID/stat");
  }
}

// Relative paths are the caller's: `deno task` runs in the project's folder but says where it
// was started in INIT_CWD.
const CALLER_DIR = Deno.env.get("INIT_CWD") ?? Deno.cwd();
const fromCaller = (path: string) => path.startsWith("/") ? path : `${CALLER_DIR}/${path}`;
const outArg = flags.get("out");
const OUT = outArg === undefined || outArg === "" ? undefined : fromCaller(outArg);

const baseArg = flags.get("base");
if (baseArg === undefined || baseArg === "") usageError("Cannot run: --base=DIR is required");
const BASE_DIR = await Deno.realPath(fromCaller(baseArg)).catch(() =>
  usageError(`Cannot run: the base checkout "${fromCaller(baseArg)}" does not exist`)
);
const CURRENT_DIR = await Deno.realPath(ROOT_DIR);

/** Whether `dir` holds a checkout of this project (its `deno.json` names the package). */
async function isCheckout(dir: string): Promise<boolean> {
  try {
    const config = JSON.parse(await Deno.readTextFile(`${dir}/deno.json`));
    const own = JSON.parse(await Deno.readTextFile(`${CURRENT_DIR}/deno.json`));
    return config.name === own.name;
  } catch {
    return false;
  }
}
if (!(await isCheckout(BASE_DIR))) {
  usageError(
    `Cannot run: "${BASE_DIR}" is not a checkout of this repository (no deno.json of the ` +
      "same package)",
  );
}

type SideKey = "A" | "B";

interface Side {
  key: SideKey;
  role: "base" | "current";
  dir: string;
}

const SIDES: Record<SideKey, Side> = {
  A: { key: "A", role: "base", dir: BASE_DIR },
  B: { key: "B", role: "current", dir: CURRENT_DIR },
};

/** The order of the sides in seal round `round` (from 1): A first in odd rounds. */
function order(round: number): [Side, Side] {
  return round % 2 === 1 ? [SIDES.A, SIDES.B] : [SIDES.B, SIDES.A];
}

/** The side of load burst `index` (from 0): A B B A, repeated. */
function burstSide(index: number): SideKey {
  return index % 4 === 0 || index % 4 === 3 ? "A" : "B";
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Clean-up: servers, the bench process and the temporary folder go when interrupted too.

const abort = new AbortController();
const tempDir = await Deno.makeTempDir({ prefix: "sealed-ab-" });

async function cleanUp(): Promise<void> {
  abort.abort();
  await stopAllServers();
  await Deno.remove(tempDir, { recursive: true }).catch(() => {});
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    console.error(`\n${signal}: stopping`);
    cleanUp().finally(() => Deno.exit(130));
  });
}

/** What went wrong, in the order it happened; any entry makes the exit code 1. */
const failures: string[] = [];

function fail(message: string): void {
  // One line, so that it stays one item of the report's list.
  message = message.replace(/\s*\n\s*/g, " / ");
  failures.push(message);
  console.error(`[ab]   FAILED: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Load

interface ServerKind {
  key: string;
  label: string;
  /** The file the server runs; a side without it has no such row. */
  file: string;
  args: string[];
  env: Record<string, string>;
}

const KINDS: readonly ServerKind[] = [
  {
    key: "ours",
    label: "middleware alone (bench/load/ours.ts)",
    file: "bench/load/ours.ts",
    args: ["run", "-A", "bench/load/ours.ts"],
    env: {},
  },
  {
    key: "service",
    label: "service (main.ts), cookie mode",
    file: "main.ts",
    args: ["run", "--allow-net", "--allow-env", "--allow-read", "main.ts"],
    env: { HOSTNAME: HOST, SESSION_SECRET: SERVICE_SECRET },
  },
];

interface Workload {
  key: "getMany" | "getManyHtml" | "post";
  title: string;
  path: string;
  /** Only for the service (the middleware-only server has no HTML page). */
  serviceOnly?: boolean;
}

const WORKLOADS: readonly Workload[] = [
  {
    key: "getMany",
    title: `GET /session-data, ${SESSIONS} sessions rotating`,
    path: "/session-data",
  },
  ...(withHtml
    ? [
      {
        key: "getManyHtml",
        title: `GET /session-data as the HTML page, ${SESSIONS} sessions rotating`,
        path: "/session-data",
        serviceOnly: true,
      } as const,
    ]
    : []),
  ...(withPost
    ? [{ key: "post", title: "POST /greeting, no cookie", path: "/greeting" } as const]
    : []),
];

/** One measured burst against one server. */
interface Burst {
  side: SideKey;
  /** Which of the row's pairs of servers (from 1) it ran on. */
  generation: number;
  /** `NaN` when no request completed: other work took the whole core for the burst. */
  cpuUsPerRequest: number;
  reqPerSec: number;
  /** The server's CPU time over the burst's wall time: near 1 when it was the bottleneck. */
  cpuShare: number;
  /** Share of core 0 that processes other than the two servers took meanwhile (pinning only). */
  othersShare: number | undefined;
}

/** CPU time a server used while the other side's bursts ran, and their wall time. */
interface Idle {
  cpuS: number;
  wallS: number;
}

interface LoadRow {
  kind: ServerKind;
  workload: Workload;
  /** In the order run: A B B A, repeated; cut short where a burst failed. */
  bursts: Burst[];
  idle: Record<SideKey, Idle>;
  /** Why the row has no figures by design (a side lacks the server's file). */
  absent: string | undefined;
}

const loadRows: LoadRow[] = KINDS.flatMap((kind) =>
  WORKLOADS.filter((workload) => !workload.serviceOnly || kind.key === "service").map((
    workload,
  ) => ({
    kind,
    workload,
    bursts: [],
    idle: { A: { cpuS: 0, wallS: 0 }, B: { cpuS: 0, wallS: 0 } },
    absent: undefined,
  }))
);

const rotateJsonScript = `${tempDir}/rotate_cookies.lua`;
const rotateHtmlScript = `${tempDir}/rotate_cookies_html.lua`;
const postJsonScript = `${tempDir}/post_json.lua`;
/** Each side's own cookies: the two sides' servers need not read each other's. */
const cookieFile = (side: SideKey) => `${tempDir}/cookies-${side}.txt`;

/** The wrk options and trailing arguments of a workload against `side`'s server. */
function wrkArgs(workload: Workload, side: SideKey): { extra: string[]; tail: string[] } {
  if (workload.key === "post") return { extra: ["-s", postJsonScript], tail: [] };
  const script = workload.key === "getMany" ? rotateJsonScript : rotateHtmlScript;
  return { extra: ["-s", script], tail: ["--", cookieFile(side)] };
}

function wrkProblem(stats: WrkStats | undefined, output: string): string | undefined {
  if (stats === undefined) return `could not read wrk's output: ${output.trim().slice(-300)}`;
  if (stats.non2xx + stats.socketErrors > 0) {
    return `${stats.non2xx} non-2xx/3xx answers, ${stats.socketErrors} socket errors`;
  }
  return undefined;
}

/** Both servers' CPU time and core 0's busy time at one moment. */
interface Snapshot {
  at: number;
  cpu: Record<SideKey, CpuSample | undefined>;
  core: number | undefined;
}

async function snapshot(servers: Record<SideKey, Server>): Promise<Snapshot> {
  const [a, b, core] = await Promise.all([
    cpuSample(servers.A.child.pid),
    cpuSample(servers.B.child.pid),
    PIN ? coreBusySeconds(0) : undefined,
  ]);
  return { at: performance.now(), cpu: { A: a, B: b }, core };
}

/** Runs wrk against `side`'s server for `seconds`; a problem as text, else its figures. */
async function drive(
  servers: Record<SideKey, Server>,
  workload: Workload,
  side: SideKey,
  seconds: number,
): Promise<WrkStats | string> {
  const url = `http://${HOST}:${servers[side].port}${workload.path}`;
  const { extra, tail } = wrkArgs(workload, side);
  const run = await runWrk(seconds, url, extra, tail);
  for (const key of ["A", "B"] as const) {
    const exit = servers[key].exited();
    if (exit !== undefined) return `${key}'s server exited (code ${exit.code}) during the load`;
  }
  const problem = wrkProblem(run.stats, run.output);
  if (problem !== undefined) return `${side}: ${problem}`;
  return run.stats!;
}

/**
 * One row on the two running servers: a warm-up of each, then `pairs` pairs of bursts. Each
 * snapshot ends one burst and begins the next, so that every CPU second of either server falls
 * in some burst: its own, or the other's (the idle figure).
 */
async function loadRow(
  row: LoadRow,
  servers: Record<SideKey, Server>,
  generation: number,
  pairs: number,
  onFail: (message: string) => void,
): Promise<void> {
  const what = `${row.kind.key}, ${row.workload.key}, servers ${generation}/${GENERATIONS}`;
  if (WARMUP_S > 0) {
    for (const side of ["A", "B"] as const) {
      const warm = await drive(servers, row.workload, side, WARMUP_S);
      if (typeof warm === "string") return onFail(`${what}, warm-up: ${warm}`);
    }
  }
  let before = await snapshot(servers);
  for (let index = 0; index < 2 * pairs; index++) {
    const side = burstSide(index);
    const other: SideKey = side === "A" ? "B" : "A";
    const stats = await drive(servers, row.workload, side, BURST_S);
    const after = await snapshot(servers);
    if (typeof stats === "string") return onFail(`${what}, burst ${index + 1}: ${stats}`);
    const [ownBefore, ownAfter] = [before.cpu[side], after.cpu[side]];
    const [otherBefore, otherAfter] = [before.cpu[other], after.cpu[other]];
    if (!ownBefore || !ownAfter || !otherBefore || !otherAfter) {
      return onFail(`${what}, burst ${index + 1}: could not read /proc/PID/stat`);
    }
    const wallS = (after.at - before.at) / 1000;
    const own = cpuBetween(ownBefore, ownAfter);
    const idle = cpuBetween(otherBefore, otherAfter);
    row.idle[other].cpuS += idle;
    row.idle[other].wallS += wallS;
    row.bursts.push({
      side,
      generation,
      cpuUsPerRequest: stats.requests === 0 ? NaN : own / stats.requests * 1e6,
      reqPerSec: stats.reqPerSec,
      cpuShare: own / wallS,
      othersShare: before.core === undefined || after.core === undefined
        ? undefined
        : Math.max(0, after.core - before.core - own - idle) / wallS,
    });
    before = after;
    if (index % 2 === 1) {
      const [first, second] = row.bursts.slice(-2) as [Burst, Burst];
      const [a, b] = first.side === "A" ? [first, second] : [second, first];
      // A burst without a completed request gives NaN here, and no ratio in the tables.
      console.error(
        `[ab] ${what}, pair ${(index + 1) / 2}/${pairs}: A ${a.cpuUsPerRequest.toFixed(2)}, ` +
          `B ${b.cpuUsPerRequest.toFixed(2)} µs CPU/request, ` +
          `B/A ${ratioText(b.cpuUsPerRequest / a.cpuUsPerRequest)}`,
      );
    }
  }
}

/** Pairs of bursts per row on the servers of `generation` (from 1): `PAIRS` split evenly. */
function pairsOf(generation: number): number {
  return Math.floor(PAIRS / GENERATIONS) + (generation <= PAIRS % GENERATIONS ? 1 : 0);
}

/**
 * The rows of `kind`, on `GENERATIONS` pairs of servers one after the other: each pair is one
 * server of each side, both running; each mints its sessions, then takes its share of every
 * row's bursts. Fresh processes each time, so that what one process happens to be (how the
 * JIT compiled it, where its heap lies) does not decide the comparison.
 */
async function loadKind(kind: ServerKind): Promise<void> {
  const rows = loadRows.filter((row) => row.kind === kind);
  const missing = (["A", "B"] as const).filter((key) => !exists(`${SIDES[key].dir}/${kind.file}`));
  if (missing.length > 0) {
    const text = missing.map((key) => `no ${kind.file} in ${key} (${SIDES[key].role})`);
    for (const row of rows) row.absent = text.join(", ");
    return;
  }
  for (let generation = 1; generation <= GENERATIONS; generation++) {
    // Started and minted A first, then B first, so that neither side is always the elder.
    const keys = generation % 2 === 1 ? (["A", "B"] as const) : (["B", "A"] as const);
    const servers = {} as Record<SideKey, Server>;
    for (const key of keys) {
      servers[key] = startServer({ cwd: SIDES[key].dir, args: kind.args, env: kind.env });
    }
    const withOutput = (message: string) => {
      const outputs = keys
        .map((key) => [key, servers[key].output()] as const)
        .filter(([, output]) => output !== "")
        .map(([key, output]) => `${key}'s server output: ${output}`);
      return [message, ...outputs].join("; ");
    };
    try {
      for (const key of keys) {
        const what = `${kind.key}, servers ${generation}/${GENERATIONS}, ${key} ` +
          `(${SIDES[key].role})`;
        try {
          await waitReady(servers[key]);
          const started = performance.now();
          const cookies = await mint(servers[key].port, SESSIONS);
          await Deno.writeTextFile(cookieFile(key), cookies.join("\n") + "\n");
          console.error(
            `[ab] ${what}: ${SESSIONS} sessions minted in ` +
              `${((performance.now() - started) / 1000).toFixed(1)} s`,
          );
        } catch (error) {
          // A server that cannot start or mint would fail the same way again.
          fail(withOutput(`${what}: ${(error as Error).message}`));
          return;
        }
      }
      for (const row of rows) {
        await loadRow(row, servers, generation, pairsOf(generation), (message) => {
          fail(withOutput(message));
        });
      }
    } finally {
      await Promise.all(keys.map((key) => stopServer(servers[key])));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Seal micro-benchmark

interface SealCase {
  group: string | undefined;
  name: string;
  /** Average ns per iteration, by side, indexed by round − 1. */
  avg: Record<SideKey, (number | undefined)[]>;
  /** Fastest iteration in ns, likewise: other load rarely makes the fastest one slower. */
  min: Record<SideKey, (number | undefined)[]>;
  /** Sides whose benchmark has this case (whether or not it ran). */
  seen: Set<SideKey>;
}

const sealCases = new Map<string, SealCase>();
/** Sides whose tree has no seal benchmark. */
const sealAbsent = new Set<SideKey>();

/** The part of `deno bench --json` output read here. */
interface BenchJson {
  benches: {
    group?: string | null;
    name: string;
    results: ({ ok: { avg: number; min: number } } | { failed: unknown })[];
  }[];
}

async function sealRound(side: Side, round: number): Promise<void> {
  if (sealAbsent.has(side.key)) return;
  if (!exists(`${side.dir}/${SEAL_BENCH}`)) {
    sealAbsent.add(side.key);
    return;
  }
  const what = `round ${round}, seal bench, ${side.key} (${side.role})`;
  console.error(`[ab] ${what} …`);
  let stdout: string;
  let stderr: string;
  let success: boolean;
  try {
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["bench", "--json", "--allow-env", "--allow-read", SEAL_BENCH],
      cwd: side.dir,
      clearEnv: true,
      env: childEnv({}),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.any([abort.signal, AbortSignal.timeout(SEAL_TIMEOUT_MS)]),
    }).output();
    stdout = new TextDecoder().decode(result.stdout);
    stderr = new TextDecoder().decode(result.stderr);
    success = result.success;
  } catch (error) {
    fail(`${what}: deno bench did not run: ${(error as Error).message}`);
    return;
  }
  let parsed: BenchJson;
  try {
    // Anything a bench file prints goes to stdout too, before the report.
    parsed = JSON.parse(stdout.slice(stdout.search(/^\{/m)));
  } catch {
    fail(`${what}: no JSON report from deno bench; stderr: ${stderr.trim().slice(-500)}`);
    return;
  }
  if (!success) fail(`${what}: deno bench failed; stderr: ${stderr.trim().slice(-500)}`);
  for (const bench of parsed.benches) {
    const group = bench.group ?? undefined;
    const key = `${group ?? ""}\u0000${bench.name}`;
    let entry = sealCases.get(key);
    if (entry === undefined) {
      entry = {
        group,
        name: bench.name,
        avg: { A: [], B: [] },
        min: { A: [], B: [] },
        seen: new Set(),
      };
      sealCases.set(key, entry);
    }
    entry.seen.add(side.key);
    const result = bench.results[0];
    if (result !== undefined && "ok" in result) {
      entry.avg[side.key][round - 1] = result.ok.avg;
      entry.min[side.key][round - 1] = result.ok.min;
    } else fail(`${what}: case "${group ? `${group} / ` : ""}${bench.name}" failed`);
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and report

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function defined<T>(values: readonly (T | undefined)[]): T[] {
  return values.filter((value): value is T => value !== undefined);
}

/** B/A of each seal round in which both sides have a value. */
function pairedRatios(a: readonly (number | undefined)[], b: readonly (number | undefined)[]) {
  const ratios: number[] = [];
  for (let i = 0; i < SEAL_ROUNDS; i++) {
    if (a[i] !== undefined && b[i] !== undefined && a[i] !== 0) ratios.push(b[i]! / a[i]!);
  }
  return ratios;
}

/** The `q` quantile (0–1) of `values`, interpolating between the two nearest ranks. */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (sorted.length - 1) * q;
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

/** A small seeded generator (mulberry32): the same run gives the same interval. */
function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BOOTSTRAP_SAMPLES = 5_000;

/**
 * A 95% bootstrap interval of the median of `values` (percentile method): the pairs are
 * resampled, not the bursts, so that each resample keeps A and B of the same moment together.
 */
function medianInterval(values: readonly number[]): [number, number] {
  const random = seededRandom(values.length);
  const medians: number[] = [];
  const sample: number[] = new Array(values.length);
  for (let i = 0; i < BOOTSTRAP_SAMPLES; i++) {
    for (let j = 0; j < values.length; j++) {
      sample[j] = values[Math.floor(random() * values.length)]!;
    }
    medians.push(median(sample));
  }
  return [quantile(medians, 0.025), quantile(medians, 0.975)];
}

/**
 * Two-sided sign test: the chance that a fair coin gives a split at least as uneven as `k`
 * of `n`.
 */
function signTestP(k: number, n: number): number {
  if (n === 0) return 1;
  const extreme = Math.max(k, n - k);
  let pmf = 0.5 ** n; // P(X = 0)
  let tail = 0;
  for (let x = 0; x <= n; x++) {
    if (x >= extreme) tail += pmf;
    pmf = pmf * (n - x) / (x + 1);
  }
  return Math.min(1, 2 * tail);
}

/** Each adjacent A and B burst of a row on the same servers, in the order run. */
function burstPairs(row: LoadRow): { a: Burst; b: Burst }[] {
  const pairs: { a: Burst; b: Burst }[] = [];
  for (let i = 0; i + 1 < row.bursts.length;) {
    const [first, second] = [row.bursts[i]!, row.bursts[i + 1]!];
    // A burst left alone by a failure has no partner: skip it.
    if (first.generation !== second.generation) {
      i += 1;
      continue;
    }
    pairs.push(first.side === "A" ? { a: first, b: second } : { a: second, b: first });
    i += 2;
  }
  return pairs;
}

/** The median B/A on each pair of servers in turn, e.g. "0.991, 1.012, 1.004". */
function perServers(pairs: readonly { a: Burst; b: Burst }[]): string {
  const medians: string[] = [];
  for (let generation = 1; generation <= GENERATIONS; generation++) {
    const ratios = pairs
      .filter(({ a }) => a.generation === generation)
      .map(({ a, b }) => b.cpuUsPerRequest / a.cpuUsPerRequest);
    medians.push(ratios.length === 0 ? "—" : ratioText(median(ratios)));
  }
  return medians.join(", ");
}

/** Whether both bursts of a pair completed requests, so that the pair has a ratio. */
function measured(pair: { a: Burst; b: Burst }): boolean {
  return Number.isFinite(pair.a.cpuUsPerRequest) && Number.isFinite(pair.b.cpuUsPerRequest);
}

function percent(share: number | undefined): string {
  return share === undefined ? "n/a" : `${Math.round(share * 100)}%`;
}

/** Text for a table cell: a `|` would end it. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

function ratioText(value: number): string {
  return value.toFixed(3);
}

/** Medians of A and B, B/A of the medians, and the range of the per-round ratios. */
function compare(
  a: readonly (number | undefined)[],
  b: readonly (number | undefined)[],
  show: (value: number) => string,
): { a: string; b: string; ratio: string; range: string; pairs: number } {
  const aValues = defined(a);
  const bValues = defined(b);
  const ratios = pairedRatios(a, b);
  const aMedian = aValues.length > 0 ? median(aValues) : undefined;
  const bMedian = bValues.length > 0 ? median(bValues) : undefined;
  return {
    a: aMedian === undefined ? "—" : show(aMedian),
    b: bMedian === undefined ? "—" : show(bMedian),
    ratio: aMedian === undefined || bMedian === undefined ? "—" : ratioText(bMedian / aMedian),
    range: ratios.length === 0
      ? "—"
      : `${ratioText(Math.min(...ratios))}–${ratioText(Math.max(...ratios))}`,
    pairs: ratios.length,
  };
}

function loadTables(): string[] {
  const summary = [
    "## Load, many visitors: server CPU per request",
    "",
    "A and B: the median over each side's bursts of the server's CPU time per completed " +
    "request. B/A: the median of the per-pair ratios (each A burst with the B burst next to " +
    "it), their interquartile range, and a 95% bootstrap interval of that median. B slower: in " +
    "how many pairs B/A was above 1, with the two-sided sign test's p. Lower is better: B/A " +
    "above 1 means B spends more of the server's CPU on a request. req/s is shown for " +
    "reference; it moves with other load on the machine far more than CPU per request does.",
    "",
    "| row | A µs CPU/req | B µs CPU/req | B/A | IQR of B/A | 95% interval | B slower in | " +
    "A req/s | B req/s |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  const checks = [
    "### Load: spread and checks",
    "",
    "Per row: the range and 10th–90th percentiles of the per-pair B/A; its median on each pair " +
    "of server processes in turn (how much one process differs from another of the same code); " +
    "the server's CPU share " +
    "in its own bursts (near 100% when it was the bottleneck); the idle server's CPU share " +
    "while the other side's bursts ran (near 0%, or the two servers were not independent); " +
    "and the median share of core 0 that other processes took during a burst, the noise this " +
    "row saw.",
    "",
    "| row | pairs | B/A range | B/A 10th–90th | B/A per server pair | server CPU A / B | " +
    "idle server CPU A / B | others on core 0 |",
    "|---|--:|--:|--:|--:|--:|--:|--:|",
  ];
  const notes: string[] = [];
  for (const row of loadRows) {
    const label = `${row.kind.label}: ${row.workload.title}`;
    if (row.absent !== undefined) {
      notes.push(`${label}: not compared (${row.absent})`);
      continue;
    }
    const run = burstPairs(row);
    const pairs = run.filter(measured);
    if (run.length < PAIRS) {
      notes.push(`${label}: ${run.length} of ${PAIRS} pairs ran (see Failures)`);
    }
    if (run.length > pairs.length) {
      notes.push(
        `${label}: ${run.length - pairs.length} pair(s) left out, a burst of which completed ` +
          "no request (other work held core 0 throughout)",
      );
    }
    if (pairs.length === 0) continue;
    const ratios = pairs.map(({ a, b }) => b.cpuUsPerRequest / a.cpuUsPerRequest);
    const side = (key: SideKey) =>
      row.bursts.filter((burst) => burst.side === key && Number.isFinite(burst.cpuUsPerRequest));
    const us = (key: SideKey) => median(side(key).map((burst) => burst.cpuUsPerRequest));
    const rps = (key: SideKey) => median(side(key).map((burst) => burst.reqPerSec));
    const share = (key: SideKey) => median(side(key).map((burst) => burst.cpuShare));
    const slower = ratios.filter((ratio) => ratio > 1).length;
    const ties = ratios.filter((ratio) => ratio === 1).length;
    const [low, high] = medianInterval(ratios);
    const range = (from: number, to: number) => `${ratioText(from)}–${ratioText(to)}`;
    summary.push(
      `| ${label} | ${us("A").toFixed(2)} | ${us("B").toFixed(2)} | ` +
        `${ratioText(median(ratios))} | ` +
        `${range(quantile(ratios, 0.25), quantile(ratios, 0.75))} | ${range(low, high)} | ` +
        `${slower} of ${ratios.length} (p ${signTestP(slower, ratios.length - ties).toFixed(2)})` +
        ` | ${Math.round(rps("A"))} | ${Math.round(rps("B"))} |`,
    );
    const idle = (key: SideKey) =>
      row.idle[key].wallS === 0
        ? "n/a"
        : `${(row.idle[key].cpuS / row.idle[key].wallS * 100).toFixed(1)}%`;
    const others = defined(row.bursts.map((burst) => burst.othersShare));
    checks.push(
      `| ${row.kind.key} ${row.workload.key} | ${ratios.length} | ` +
        `${range(Math.min(...ratios), Math.max(...ratios))} | ` +
        `${range(quantile(ratios, 0.1), quantile(ratios, 0.9))} | ${perServers(pairs)} | ` +
        `${percent(share("A"))} / ${percent(share("B"))} | ${idle("A")} / ${idle("B")} | ` +
        `${others.length === 0 ? "n/a" : percent(median(others))} |`,
    );
  }
  if (notes.length > 0) summary.push("", ...notes.map((note) => `- ${note}`));
  return [summary.join("\n"), checks.join("\n")];
}

function sealTable(): string {
  const lines = [
    "## Seal micro-benchmark: time per iteration",
    "",
    "Each side's own `bench/seal_bench.ts` (`deno bench --json`): per case, the average ns per " +
    "iteration, median of each side over the rounds, B/A of those medians and the range of the " +
    "per-round ratios; then the same for the fastest iteration, which other load on the " +
    "machine disturbs far less than the average (but which misses costs that only some " +
    "iterations pay, such as garbage collection). Lower is better.",
    "",
    "| group | case | A avg ns | B avg ns | B/A | per-round B/A | A min ns | B min ns | " +
    "B/A (min) | per-round B/A (min) | rounds |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  const onlyIn: Record<SideKey, string[]> = { A: [], B: [] };
  for (const entry of sealCases.values()) {
    const name = `${entry.group ? `${entry.group} / ` : ""}${entry.name}`;
    const inA = entry.seen.has("A");
    const inB = entry.seen.has("B");
    if (inA !== inB) {
      onlyIn[inA ? "A" : "B"].push(name);
      continue;
    }
    const ns = (value: number) => String(Math.round(value));
    const cells = compare(entry.avg.A, entry.avg.B, ns);
    const fastest = compare(entry.min.A, entry.min.B, ns);
    lines.push(
      `| ${cell(entry.group ?? "")} | ${cell(entry.name)} | ${cells.a} | ${cells.b} | ` +
        `${cells.ratio} | ${cells.range} | ${fastest.a} | ${fastest.b} | ${fastest.ratio} | ` +
        `${fastest.range} | ${cells.pairs} |`,
    );
  }
  const notes: string[] = [];
  for (const key of ["A", "B"] as const) {
    if (sealAbsent.has(key)) notes.push(`${key} has no \`${SEAL_BENCH}\`.`);
    if (onlyIn[key].length > 0) {
      notes.push(`Only in ${key} (${SIDES[key].role}): ${onlyIn[key].map(cell).join("; ")}.`);
    }
  }
  if (notes.length > 0) lines.push("", ...notes.map((note) => `- ${note}`));
  return lines.join("\n");
}

/** `git` in `dir`; `undefined` when it fails (not a checkout, no git). */
async function git(dir: string, args: string[]): Promise<string | undefined> {
  try {
    const result = await new Deno.Command("git", {
      args: ["-C", dir, ...args],
      stdout: "piped",
      stderr: "null",
    }).output();
    return result.success ? new TextDecoder().decode(result.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

async function describeSide(side: Side): Promise<string> {
  const commit = await git(side.dir, ["log", "-1", "--format=%h %s"]);
  const status = await git(side.dir, ["status", "--porcelain", "--untracked-files=no"]);
  const state = status === undefined ? "" : status === "" ? ", clean" : ", uncommitted changes";
  const subject = commit === undefined
    ? "not a git checkout"
    : `${commit.length > 90 ? `${commit.slice(0, 90)}…` : commit}${state}`;
  return `- ${side.key} (${side.role}): \`${side.dir}\`, ${subject}`;
}

function command(): string {
  const parts = ["deno run -A bench/ab.ts", `--base=${baseArg}`];
  for (const flag of KNOWN.filter((flag) => flag !== "base")) {
    const value = flags.get(flag);
    if (value !== undefined) parts.push(`--${flag}=${value}`);
  }
  if (!withPost) parts.push("--no-post");
  if (withHtml) parts.push("--html");
  return parts.join(" ");
}

/** Formats Markdown as `deno fmt` does (aligned tables); the text as it is if that fails. */
async function formatted(markdown: string): Promise<string> {
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--ext=md", "-"],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(markdown));
    await writer.close();
    const result = await child.output();
    return result.success ? new TextDecoder().decode(result.stdout) : markdown;
  } catch {
    return markdown;
  }
}

// ---------------------------------------------------------------------------------------------
// Main

const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
const loadBefore = await loadAverage();
const [cpu, denoVersion, wrkVersion, sideA, sideB] = await Promise.all([
  cpuModel(),
  commandOutput(Deno.execPath(), ["--version"]),
  RUN_LOAD ? commandOutput("wrk", ["-v"]) : undefined,
  describeSide(SIDES.A),
  describeSide(SIDES.B),
]);

try {
  if (RUN_LOAD) {
    await Deno.writeTextFile(rotateJsonScript, ROTATE_SCRIPT);
    await Deno.writeTextFile(rotateHtmlScript, rotateScript("text/html"));
    await Deno.writeTextFile(postJsonScript, postScript("application/json"));
    for (const kind of KINDS) await loadKind(kind);
  }
  if (RUN_SEAL) {
    for (let round = 1; round <= SEAL_ROUNDS; round++) {
      for (const side of order(round)) await sealRound(side, round);
    }
  }
} finally {
  await cleanUp();
}

const loadAfter = await loadAverage();
const loadSettings = `- Load: per server row, ${GENERATIONS} pair${GENERATIONS === 1 ? "" : "s"} ` +
  "of servers in turn, one server of each side, both running at once; " +
  `${SESSIONS} sessions minted through each one's own \`POST /greeting\`; then per ` +
  `workload a ${WARMUP_S} s warm-up of each and its share of ${PAIRS} pairs of ${BURST_S} s ` +
  `bursts in the order A B B A, repeated (\`wrk -t${THREADS} -c${CONNECTIONS}\`, ` +
  "`Accept: application/json`). Server CPU is the time on a CPU of all the server's threads " +
  "over the burst (`/proc/PID/task/*/schedstat`; utime + stime of `/proc/PID/stat` where a " +
  "thread ended)." +
  (PAIRS < MIN_PAIRS
    ? ` **${PAIRS} pair${PAIRS === 1 ? "" : "s"}: too few for a verdict; use ` +
      `--bursts=${MIN_PAIRS} or more.**`
    : "");
const sealSettings =
  "- Seal: `deno bench --json --allow-env --allow-read bench/seal_bench.ts` in " +
  `each side's folder, not pinned; ${SEAL_ROUNDS} round${SEAL_ROUNDS === 1 ? "" : "s"}, A ` +
  "first in odd rounds and B first in even ones; each case's average and fastest iteration." +
  (SEAL_ROUNDS < MIN_SEAL_ROUNDS
    ? ` **Too few rounds for a verdict; use --seal-rounds=${MIN_SEAL_ROUNDS} or more.**`
    : "");
const header = [
  "# A/B benchmark: current (B) against base (A)",
  "",
  `- Date: ${date}`,
  `- Machine: ${cpu}, ${CORES} logical cores` +
  (RUN_LOAD
    ? PIN ? "; servers pinned to core 0, wrk to core 1 (taskset)" : "; no CPU pinning"
    : ""),
  `- Load average (1/5/15 min) at start: ${loadBefore}, at end: ${loadAfter}`,
  `- Deno: ${denoVersion?.split("\n")[0] ?? "unknown"}` +
  (wrkVersion === undefined ? "" : `; wrk: ${wrkVersion.split("\n")[0]?.split(" Copyright")[0]}`),
  sideA,
  sideB,
  ...(RUN_LOAD ? [loadSettings] : []),
  ...(RUN_SEAL ? [sealSettings] : []),
  `- Command: \`${command()}\``,
  ...(BASE_DIR === CURRENT_DIR ? ["- **A and B are the same folder.**"] : []),
].join("\n");

const sections = [
  header,
  ...(RUN_LOAD ? loadTables() : []),
  ...(RUN_SEAL ? [sealTable()] : []),
  ...(failures.length > 0
    ? [["## Failures", "", ...failures.map((failure) => `- ${failure}`)].join("\n")]
    : []),
];
const report = await formatted(sections.join("\n\n") + "\n");
console.log(report);
if (OUT !== undefined) {
  await Deno.writeTextFile(OUT, report);
  console.error(`[ab] written to ${OUT}`);
}
Deno.exit(failures.length > 0 ? 1 : 0);
