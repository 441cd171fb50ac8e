/**
 * Cold-start benchmark: how long a freshly spawned server takes to give its first 2xx answer,
 * for the first seal (`POST /greeting`, no cookie) and for the first open (`GET /session-data`
 * with a valid session cookie). Each sample is a new process, timed from just before the spawn
 * to the end of the first response body, with the module cache warm (one discarded start per
 * server first). Contenders are interleaved run by run, in a rotating order, so that load from
 * other processes on the machine spreads over all of them; the tables report medians.
 *
 * Besides the CPU time each server had used by its first answer (steadier than wall time on a
 * busy machine), the bare app and the service also run bundled into one file (`deno bundle`),
 * which shows what loading many modules costs.
 *
 * Then a breakdown of where the service's start goes, from `bench/cold/_probe.ts` run in fresh
 * processes: the runtime's own start, each module group's loading and evaluation, key
 * derivation, the first requests through the app; and the parts on their own (each backend's
 * first seal and open, loading `node:crypto`, the first page, what only some modes load).
 * Prints Markdown on stdout; `--out=FILE` (or `BENCH_COLD_RESULTS=FILE`) also writes it to that
 * file, formatted as `deno fmt` would. `bench/README.md` shows a dated table from such a run.
 *
 * ```sh
 * deno run -A bench/cold.ts                 # 9 runs
 * BENCH_COLD_RUNS=15 deno run -A bench/cold.ts --out=/tmp/cold.md
 * # The service of another version too, as a "before" row:
 * git archive main | tar -x -C /tmp/before && BENCH_COLD_BASELINE=/tmp/before deno run -A bench/cold.ts
 * # Another Deno for the servers (e.g. what Deno Deploy runs):
 * BENCH_COLD_DENO=/path/to/deno-2.5 deno run -A bench/cold.ts
 * ```
 *
 * Exits with code 1 when a server fails to start or answers wrongly.
 *
 * @module
 */

import {
  median,
  PART_STEPS,
  type ProbeOutput,
  type ProbeReport,
  START_STEPS,
} from "./cold/_probe_report.ts";

const ROOT_DIR = decodeURIComponent(new URL("../", import.meta.url).pathname);
/**
 * A file to write the report to as well as stdout (`--out=FILE` or `BENCH_COLD_RESULTS`), relative
 * to where the command was started; none by default.
 */
const OUT_PATH = Deno.args.find((arg) => arg.startsWith("--out="))?.slice(6) ??
  Deno.env.get("BENCH_COLD_RESULTS");
const RESULTS_FILE = OUT_PATH ? new URL(OUT_PATH, `file://${Deno.cwd()}/`) : undefined;
/** The Deno that runs the servers and probes: `BENCH_COLD_DENO`, else this one. */
const DENO = Deno.env.get("BENCH_COLD_DENO") ?? Deno.execPath();
const KV_DIR = ".data/bench-cold";
const SECRET = "9c3b1f5e7a0d2c4b6e8f1a3c5e7b9d0f2a4c6e8b0d1f3a5c7e9b2d4f6a8c0e1b";
const FLASK_KEY = "flask secret key of the cold-start benchmark";
const FORM = "name=Ada&lastname=Lovelace";
/** What a browser sends: the service answers with its HTML pages. */
const ACCEPT = "text/html,application/xhtml+xml,application/xhtml+xml;q=0.9,*/*;q=0.8";
const READY_TIMEOUT_MS = 30_000;
/** The budget checked: the service's first seal and open within bare + 15 ms (at worst 25). */
const TARGET_MS = 15;
const LIMIT_MS = 25;

const RUNS = (() => {
  const text = Deno.env.get("BENCH_COLD_RUNS") ?? "9";
  const runs = Number(text);
  if (!Number.isInteger(runs) || runs < 1 || runs > 101) {
    console.error(`BENCH_COLD_RUNS must be a whole number from 1 to 101, got "${text}"`);
    Deno.exit(2);
  }
  return runs;
})();

/** The flags of `deno task start`. */
const START_FLAGS = ["--allow-net", "--allow-env", "--allow-read", "--allow-write=.data"];

interface Contender {
  key: string;
  label: string;
  args: string[];
  env: Record<string, string>;
  /** Folder to run in; the project root when unset. */
  cwd?: string;
}

const SERVICE_ENV = { HOSTNAME: "127.0.0.1", PORT: "0", SESSION_SECRET: SECRET };
const service = (key: string, label: string, env: Record<string, string> = {}): Contender => ({
  key,
  label,
  args: ["run", ...START_FLAGS, "main.ts"],
  env: { ...SERVICE_ENV, ...env },
});
const loadServer = (key: string, label: string, file: string): Contender => ({
  key,
  label,
  args: ["run", "-A", `bench/load/${file}`],
  env: { PORT: "0" },
});

/**
 * `BENCH_COLD_BASELINE`: a folder holding another version of the project (e.g. from
 * `git archive <commit> | tar -x -C <folder>`), whose service in cookie mode joins the run as a
 * "before" row.
 */
const BASELINE_DIR = Deno.env.get("BENCH_COLD_BASELINE");

const CONTENDERS: readonly Contender[] = [
  loadServer("bare", "bare Hono + secureHeaders()", "bare_secure_headers.ts"),
  loadServer("ours", "session middleware alone (bench/load/ours.ts)", "ours.ts"),
  loadServer("honoSession", "@hono/session 0.2.1 (bench/load/hono_session.ts)", "hono_session.ts"),
  service("cookie", "service, cookie mode"),
  service("revocation", "service, KV revocation", { SESSION_KV: `${KV_DIR}/revocation.sqlite3` }),
  service("store", "service, KV store", {
    SESSION_KV: `${KV_DIR}/store.sqlite3`,
    SESSION_STORE: "kv",
  }),
  service("flask", "service, Flask bridge (migrate)", { FLASK_SECRET_KEY: FLASK_KEY }),
  {
    key: "bareBundle",
    label: "bare Hono + secureHeaders(), one file (`deno bundle`)",
    args: ["run", "-A", `${KV_DIR}/bare.js`],
    env: { PORT: "0" },
  },
  {
    key: "cookieBundle",
    label: "service, cookie mode, bundled (`deno bundle --code-splitting`)",
    args: ["run", ...START_FLAGS, `${KV_DIR}/main/main.js`],
    env: SERVICE_ENV,
  },
  ...(BASELINE_DIR === undefined ? [] : [{
    ...service("baseline", `service, cookie mode, baseline version (${BASELINE_DIR})`),
    cwd: BASELINE_DIR,
  }]),
];

/**
 * Bundles the two servers that also run bundled: what loading many modules costs, by contrast.
 * The service is split at its dynamic imports (`--code-splitting`), so that what only some
 * configurations load (the Redis client, a CommonJS package whose shim loads Node's built-ins)
 * stays out of the start; `ioredis` stays a package, resolved through `deno.json`.
 */
async function bundle(): Promise<void> {
  const runs = [
    ["-o", `${KV_DIR}/bare.js`, "bench/load/bare_secure_headers.ts"],
    ["--code-splitting", "--external", "ioredis", "--outdir", `${KV_DIR}/main`, "main.ts"],
  ];
  for (const args of runs) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "deno", ...args],
      cwd: ROOT_DIR,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new BenchError(
        `deno bundle ${args.at(-1)} failed: ${new TextDecoder().decode(output.stderr)}`,
      );
    }
  }
}

type Kind = "seal" | "open";

interface Sample {
  /** Spawn to the server's "listening" line. */
  readyMs: number;
  /** Spawn to the end of the first response. */
  firstMs: number;
  /**
   * CPU time the server's threads had used by then (Linux `schedstat`): less disturbed by
   * other work on the machine than the wall time, which also counts waiting for a core.
   */
  cpuMs: number | undefined;
}

class BenchError extends Error {}

// ---------------------------------------------------------------------------------------------
// One cold start

const READY_LINE = /^(?:ready (\d+)|Listening on http:\/\/[^\s]+:(\d+)\/)/m;

async function coldStart(
  contender: Contender,
  request: (port: number) => Promise<Response>,
  check: (response: Response, body: string) => boolean,
): Promise<Sample> {
  const command = new Deno.Command(DENO, {
    args: contender.args,
    env: contender.env,
    cwd: contender.cwd ?? ROOT_DIR,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const start = performance.now();
  const child = command.spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let output = "";
    let port: number | undefined;
    const deadline = start + READY_TIMEOUT_MS;
    while (port === undefined) {
      if (performance.now() > deadline) throw new BenchError("no listening line in time");
      const { value, done } = await reader.read();
      if (done) throw new BenchError(`exited before listening: ${await stderr}`);
      output += value;
      const match = READY_LINE.exec(output);
      if (match) port = Number(match[1] ?? match[2]);
    }
    const readyMs = performance.now() - start;
    const response = await request(port);
    const body = await response.text();
    const firstMs = performance.now() - start;
    const cpuMs = await cpuTime(child.pid);
    if (!check(response, body)) {
      throw new BenchError(`${contender.label}: unexpected answer ${response.status}: ${body}`);
    }
    return { readyMs, firstMs, cpuMs };
  } finally {
    reader.cancel().catch(() => {});
    try {
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await child.status;
    await stderr.catch(() => "");
  }
}

/** CPU time used so far by all threads of a process, from Linux's `schedstat`. */
async function cpuTime(pid: number): Promise<number | undefined> {
  try {
    let total = 0;
    for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
      const text = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/schedstat`)
        .catch(() => "0");
      total += Number(text.split(" ", 1)[0]);
    }
    return total / 1e6;
  } catch {
    return undefined;
  }
}

const post = (port: number) =>
  fetch(`http://127.0.0.1:${port}/greeting`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: ACCEPT },
    body: FORM,
  });

const get = (cookie: string) => (port: number) =>
  fetch(`http://127.0.0.1:${port}/session-data`, { headers: { cookie, accept: ACCEPT } });

const sealed = (response: Response, body: string) =>
  response.ok && response.headers.getSetCookie().length > 0 && body.includes("Ada");
const opened = (response: Response, body: string) =>
  response.ok && body.includes("Ada") && body.includes("Lovelace");

/** Starts a contender once, seals a greeting, and returns the cookie that opens it. */
async function cookieOf(contender: Contender): Promise<string> {
  let cookie = "";
  await coldStart(contender, post, (response, body) => {
    cookie = response.headers.getSetCookie().map((line) => line.split(";", 1)[0]).join("; ");
    return sealed(response, body);
  });
  if (cookie === "") throw new BenchError(`${contender.label}: no cookie`);
  // The cookie must open in a fresh process too (the KV store keeps the data server-side).
  await coldStart(contender, get(cookie), opened);
  return cookie;
}

// ---------------------------------------------------------------------------------------------
// The breakdown

async function probe(mode: "start" | "parts"): Promise<ProbeOutput> {
  const output = await new Deno.Command(DENO, {
    // -A: Deno reads a thread's CPU time under /proc only with every permission.
    args: ["run", "-A", "bench/cold/_probe.ts", mode],
    env: { SESSION_SECRET: SECRET },
    cwd: ROOT_DIR,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new BenchError(`probe failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  return JSON.parse(text) as ProbeOutput;
}

async function denoVersion(): Promise<string> {
  const output = await new Deno.Command(DENO, { args: ["--version"], stdout: "piped" }).output();
  return new TextDecoder().decode(output.stdout).split(/\s+/)[1] ?? "?";
}

/** The one-minute load average (Linux), to say how busy the machine was. */
async function loadAverage(): Promise<string> {
  return (await Deno.readTextFile("/proc/loadavg").catch(() => "n/a")).split(" ", 1)[0]!;
}

async function emptyStart(): Promise<number> {
  const start = performance.now();
  const output = await new Deno.Command(DENO, {
    args: ["run", "bench/cold/_empty.ts"],
    cwd: ROOT_DIR,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  if (!output.success) throw new BenchError("the empty script failed");
  return performance.now() - start;
}

// ---------------------------------------------------------------------------------------------
// Main

const fmt = (ms: number) => ms.toFixed(1);
const signed = (ms: number) => `${ms >= 0 ? "+" : "−"}${Math.abs(ms).toFixed(1)}`;

async function main(): Promise<void> {
  await Deno.remove(`${ROOT_DIR}${KV_DIR}`, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${ROOT_DIR}${KV_DIR}`, { recursive: true });
  try {
    await run();
  } finally {
    await Deno.remove(`${ROOT_DIR}${KV_DIR}`, { recursive: true }).catch(() => {});
  }
}

async function run(): Promise<void> {
  const version = await denoVersion();
  console.error(`deno ${version}; ${RUNS} runs; warming up and making cookies…`);
  const loadBefore = await loadAverage();
  await bundle();
  // Also warms the module cache: each contender starts twice before any sample.
  const cookies = new Map<string, string>();
  for (const contender of CONTENDERS) cookies.set(contender.key, await cookieOf(contender));

  const samples = new Map<string, Sample[]>();
  const empty: number[] = [];
  const starts: ProbeOutput[] = [];
  const parts: ProbeOutput[] = [];
  for (let run = 0; run < RUNS; run++) {
    // Rotating order: no contender always follows the same neighbour.
    const order = CONTENDERS.map((_, i) => CONTENDERS[(i + run) % CONTENDERS.length]!);
    for (const contender of order) {
      for (const kind of ["seal", "open"] as const) {
        const sample = kind === "seal"
          ? await coldStart(contender, post, sealed)
          : await coldStart(contender, get(cookies.get(contender.key)!), opened);
        const key = `${contender.key}:${kind}`;
        samples.set(key, [...(samples.get(key) ?? []), sample]);
      }
    }
    empty.push(await emptyStart());
    starts.push(await probe("start"));
    parts.push(await probe("parts"));
    console.error(`run ${run + 1}/${RUNS} done`);
  }

  const pick = (key: string, kind: Kind, field: "readyMs" | "firstMs") =>
    median(samples.get(`${key}:${kind}`)!.map((sample) => sample[field]));
  const bare = { seal: pick("bare", "seal", "firstMs"), open: pick("bare", "open", "firstMs") };

  const lines: string[] = [];
  lines.push("# Cold start", "");
  lines.push(
    `Deno ${version}, ${RUNS} runs, medians, module cache warm; load average ${loadBefore} ` +
      `before the run and ${await loadAverage()} after, on ${navigator.hardwareConcurrency} ` +
      "cores; generated by " +
      "`deno task bench:cold` (`bench/cold.ts`). Spawn of `deno run` (the service with the " +
      "`start` task's flags) to the end of the first response; requests send a browser's " +
      "`Accept` (the service answers with HTML pages). The machine was shared with other " +
      "work, so compare the columns of one table, not figures across runs.",
    "",
  );
  const cpu = (key: string, kind: Kind) => {
    const values = samples.get(`${key}:${kind}`)!.map((sample) => sample.cpuMs);
    return values.every((value) => value !== undefined) ? median(values as number[]) : undefined;
  };
  const cpuCell = (key: string, kind: Kind) => {
    const mine = cpu(key, kind);
    const base = cpu("bare", kind);
    return mine === undefined || base === undefined
      ? "n/a"
      : `${fmt(mine)} ms (${signed(mine - base)})`;
  };
  lines.push(
    "| server | listening | first seal (`POST /greeting`) | vs bare | its CPU (vs bare) | first open (`GET /session-data`) | vs bare | its CPU (vs bare) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const contender of CONTENDERS) {
    const seal = pick(contender.key, "seal", "firstMs");
    const open = pick(contender.key, "open", "firstMs");
    const ready = median([
      ...samples.get(`${contender.key}:seal`)!,
      ...samples.get(`${contender.key}:open`)!,
    ].map((sample) => sample.readyMs));
    lines.push(
      `| ${contender.label} | ${fmt(ready)} ms | ${fmt(seal)} ms | ${signed(seal - bare.seal)} | ` +
        `${cpuCell(contender.key, "seal")} | ${fmt(open)} ms | ${signed(open - bare.open)} | ` +
        `${cpuCell(contender.key, "open")} |`,
    );
  }
  const cookieSeal = pick("cookie", "seal", "firstMs") - bare.seal;
  const cookieOpen = pick("cookie", "open", "firstMs") - bare.open;
  const verdict = (diff: number) =>
    diff <= TARGET_MS ? "MET" : diff <= LIMIT_MS ? "within the limit, target missed" : "MISSED";
  lines.push(
    "",
    `Target (cookie mode, within bare + ${TARGET_MS} ms, never worse than + ${LIMIT_MS} ms): ` +
      `first seal ${signed(cookieSeal)} ms, ${verdict(cookieSeal)}; ` +
      `first open ${signed(cookieOpen)} ms, ${verdict(cookieOpen)}.`,
    "",
  );

  const table = (steps: readonly (readonly [string, string])[], outputs: ProbeOutput[]) => {
    const column = (reports: ProbeReport[], step: string) => {
      const values = reports.map((report) => report[step as keyof ProbeReport])
        .filter((value): value is number => value !== undefined && !Number.isNaN(value));
      return values.length > 0 ? `${fmt(median(values))} ms` : undefined;
    };
    for (const [step, label] of steps) {
      const wall = column(outputs.map((output) => output.wall), step);
      if (wall === undefined) continue;
      const cpu = column(outputs.map((output) => output.cpu), step) ?? "n/a";
      lines.push(`| ${label} | ${wall} | ${cpu} |`);
    }
  };
  lines.push("## Where the service's start goes", "");
  lines.push(
    "From `bench/cold/_probe.ts start`, in a fresh process each run (medians), along the path " +
      "`main.ts` takes. Each import step loads only what the steps before it had not: its figure " +
      "is what that group adds (cache read, compile and evaluation). Requests go through " +
      "`app.request()`, without a socket.",
    "",
    "| step | wall | main thread CPU |",
    "|---|---:|---:|",
    `| runtime start (\`deno run\` of an empty script, spawn to exit) | ${
      fmt(median(empty))
    } ms | |`,
  );
  table(START_STEPS, starts);
  lines.push("");
  lines.push("## The parts, and the alternatives", "");
  lines.push(
    "From `bench/cold/_probe.ts parts`, in a fresh process each run (medians): each backend's " +
      "key derivation, seal and open when first used, the cost of loading `node:crypto`, the " +
      "first page render, and what only some configurations load.",
    "",
    "| part | wall | main thread CPU |",
    "|---|---:|---:|",
  );
  table(PART_STEPS, parts);
  lines.push("");

  const text = lines.join("\n");
  console.log(text);
  if (RESULTS_FILE) {
    await Deno.writeTextFile(RESULTS_FILE, text);
    // Formatted as `deno fmt` wants it (aligned tables).
    await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--quiet", decodeURIComponent(RESULTS_FILE.pathname)],
      stdout: "null",
      stderr: "null",
    }).output();
    console.error(`[cold] written to ${decodeURIComponent(RESULTS_FILE.pathname)}`);
  }
  if (cookieSeal > LIMIT_MS || cookieOpen > LIMIT_MS) {
    console.error(`cold start of the service is more than bare + ${LIMIT_MS} ms`);
  }
}

try {
  await main();
} catch (error) {
  if (!(error instanceof BenchError)) throw error;
  console.error(error.message);
  Deno.exit(1);
}
