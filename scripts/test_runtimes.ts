/**
 * `deno task test:runtimes`: the npm package where users run it. Builds and packs it, installs
 * the tarball into a scratch project under a temporary directory, and runs the round-trip suite
 * (`tests/runtimes/suite.ts`) on Deno (this one and 2.5), Node 24 (and the system Node when it is 20.16 or newer),
 * Bun, and workerd with and without `nodejs_compat` (bundled with esbuild); then the
 * cross-runtime matrix (a cookie sealed on each runtime opens on every other), and `tsc` on a
 * consumer file with `moduleResolution` `bundler` and `nodenext`.
 *
 * The runtimes and tools are npm packages, pinned below and installed into `.cache/runtimes/`
 * (or `$SEALED_RUNTIMES_CACHE`). A runtime that cannot be installed is reported as ignored,
 * with the reason in the test's name; everything else failing fails the task.
 *
 * @module
 */

import assert from "node:assert/strict";
import { buildNpm } from "./build_npm.ts";
import type { OpenedCookies, SealedCookies, SuiteReport } from "../tests/runtimes/suite.ts";
import { BIG } from "../tests/runtimes/suite.ts";
import { CookieJar } from "../tests/_cookie_jar.ts";
import { startOnFreePort } from "../tests/_server.ts";

/** Versions of the runtimes and tools, as npm packages. */
const PINS = {
  node: "24.21.0",
  bun: "1.4.5",
  workerd: "1.20261117.1",
  esbuild: "0.28.2",
  typescript: "5.9.3",
  // TypeScript 7 (the native compiler) too: it is stricter about `Uint8Array` generics.
  typescript7: "npm:typescript@7.0.2",
} as const;
/** The Deno that Deno Deploy runs, from npm like the other runtimes. */
const DEPLOY_DENO = "2.5.0";
const DENO_JSON = JSON.parse(
  await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
) as { imports: Record<string, string> };
/** What the scratch project installs next to the package: the versions deno.json pins. */
const PEERS = ["hono", "@hono/node-server"].map((name) =>
  DENO_JSON.imports[name]!.replace(/^npm:/, "")
);
/** The workerd compatibility date: recent enough for `process.getBuiltinModule`. */
const COMPATIBILITY_DATE = "2025-09-01";

const ROOT = new URL("../", import.meta.url).pathname;
const CACHE = Deno.env.get("SEALED_RUNTIMES_CACHE") ?? `${ROOT}.cache/runtimes`;
const BIN = `${CACHE}/node_modules/.bin`;

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(
  command: string,
  args: string[],
  options: { cwd?: string; check?: boolean } = {},
): Promise<Output> {
  const out = await new Deno.Command(command, {
    args,
    cwd: options.cwd ?? ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  const result = {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
  if (options.check !== false && result.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} exited with ${result.code}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Where the binary of a pinned package is. */
function binary(name: string): string {
  if (name === "typescript") return `${BIN}/tsc`;
  if (name === "typescript7") return `${CACHE}/node_modules/typescript7/bin/tsc`;
  return `${BIN}/${name}`;
}

/** Installs the pinned packages into the cache; returns why each missing one is missing. */
async function installTools(): Promise<Map<string, string>> {
  await Deno.mkdir(CACHE, { recursive: true });
  const dependencies = Object.fromEntries(Object.entries(PINS));
  const manifest = JSON.stringify({ private: true, dependencies }, null, 2) + "\n";
  const current = await Deno.readTextFile(`${CACHE}/package.json`).catch(() => "");
  const installed = await exists(`${CACHE}/node_modules/.package-lock.json`);
  const missing = new Map<string, string>();
  if (current !== manifest || !installed) {
    await Deno.writeTextFile(`${CACHE}/package.json`, manifest);
    const all = await exec("npm", ["install", "--no-audit", "--no-fund"], {
      cwd: CACHE,
      check: false,
    });
    if (all.code !== 0) {
      // One at a time, so that one runtime that cannot be installed does not stop the others:
      // each that installs is saved to the manifest, so later ones keep it.
      await Deno.writeTextFile(`${CACHE}/package.json`, '{ "private": true }\n');
      for (const [name, version] of Object.entries(PINS)) {
        const one = await exec(
          "npm",
          ["install", "--no-audit", "--no-fund", "--save-exact", `${name}@${version}`],
          { cwd: CACHE, check: false },
        );
        if (one.code !== 0) {
          const lines = one.stderr.trim().split("\n");
          missing.set(name, lines.find((line) => /npm error/.test(line)) ?? lines[0] ?? "");
        }
      }
    }
  }
  for (const name of Object.keys(PINS)) {
    if (!missing.has(name) && !(await exists(binary(name)))) {
      missing.set(name, `npm install ${name}@${PINS[name as keyof typeof PINS]} left no binary`);
    }
  }
  return missing;
}

// ---- set-up: tools, package, scratch project, bundles ----------------------------------------

const missing = await installTools();
for (const tool of ["esbuild", "typescript"]) {
  if (missing.has(tool)) throw new Error(`Cannot install ${tool}: ${missing.get(tool)}`);
}

const dist = await buildNpm();
const scratch = await Deno.makeTempDir({ prefix: "sealed-sessions-runtimes-" });
const packed = await exec("npm", ["pack", "--json", "--pack-destination", scratch], {
  cwd: dist.pathname,
});
const tarball = `${scratch}/${JSON.parse(packed.stdout)[0].filename}`;

const app = `${scratch}/app`;
await Deno.mkdir(`${app}/src/runtimes`, { recursive: true });
await Deno.writeTextFile(
  `${app}/package.json`,
  JSON.stringify({ name: "scratch", private: true, type: "module" }) + "\n",
);
await exec("npm", ["install", "--no-audit", "--no-fund", tarball, ...PEERS], { cwd: app });
for (const file of ["suite.ts", "cli.ts", "worker.ts", "consumer.ts"]) {
  await Deno.copyFile(`${ROOT}tests/runtimes/${file}`, `${app}/src/runtimes/${file}`);
}
await Deno.copyFile(`${ROOT}tests/_cookie_jar.ts`, `${app}/src/_cookie_jar.ts`);
await Deno.mkdir(`${app}/examples`);
for (const file of ["app.ts", "deno.ts", "node.ts", "bun.ts", "worker.ts"]) {
  await Deno.copyFile(`${ROOT}examples/${file}`, `${app}/examples/${file}`);
}

// The suite for Node, Bun and Deno: the package and hono stay imports, resolved from the
// scratch project's node_modules at run time, as in a user's project.
await exec(`${BIN}/esbuild`, [
  "src/runtimes/cli.ts",
  "--bundle",
  "--format=esm",
  "--platform=node",
  "--external:hono",
  "--external:@sealed/sessions",
  "--outfile=suite.mjs",
  "--log-level=warning",
], { cwd: app });
// The suite for workerd: one module, package and hono included, as Wrangler bundles.
await exec(`${BIN}/esbuild`, [
  "src/runtimes/worker.ts",
  "--bundle",
  "--format=esm",
  "--platform=browser",
  "--conditions=workerd,worker,browser",
  "--outfile=worker/worker.js",
  "--log-level=warning",
], { cwd: app });

// The README's Workers example, bundled the same way.
await exec(`${BIN}/esbuild`, [
  "examples/worker.ts",
  "--bundle",
  "--format=esm",
  "--platform=browser",
  "--conditions=workerd,worker,browser",
  "--outfile=worker/example.js",
  "--log-level=warning",
], { cwd: app });

globalThis.addEventListener("unload", () => {
  Deno.removeSync(scratch, { recursive: true });
});

// ---- runtimes --------------------------------------------------------------------------------

interface Runtime {
  name: string;
  /** Whether the synchronous node:crypto backend must be found there. */
  nodeCrypto: boolean;
  /** Why it cannot run here; undefined when it can. */
  unavailable?: string;
  suite(): Promise<SuiteReport>;
  seal(): Promise<SealedCookies>;
  open(cookies: Record<string, SealedCookies>): Promise<Record<string, OpenedCookies>>;
}

function cliRuntime(name: string, command: string, prefix: string[] = []): Runtime {
  const run = async (mode: string, input?: unknown) => {
    const args = [...prefix, "suite.mjs", name, mode];
    if (input !== undefined) {
      const file = `${scratch}/${name}-${mode}.json`;
      await Deno.writeTextFile(file, JSON.stringify(input));
      args.push(file);
    }
    const out = await exec(command, args, { cwd: app });
    return JSON.parse(out.stdout);
  };
  return {
    name,
    nodeCrypto: true,
    suite: () => run("suite"),
    seal: () => run("seal"),
    open: (cookies) => run("open", cookies),
  };
}

/** How to run a server on a port: its command, folder and environment. */
interface Launch {
  command: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
  /** A path that answers 2xx once it serves. */
  readyPath: string;
}

/** A server process that serves. */
interface Launched {
  url: string;
  command: string;
  /** Stops it; resolves to what it printed on stdout and stderr. */
  stop(): Promise<[string, string]>;
}

/**
 * Starts `launch` on 127.0.0.1:`port` and waits until its `readyPath` answers.
 *
 * @throws {Error} When it exits first or does not answer within 10 s; its output in the message.
 */
async function startLaunch(port: number, launch: Launch): Promise<Launched> {
  const { command, args } = launch;
  const child = new Deno.Command(command, {
    args,
    cwd: launch.cwd,
    env: launch.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs = Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  let exited = false;
  child.status.then(() => (exited = true));
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already stopped.
    }
    await child.status;
    return await logs;
  };
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !exited; i++) {
    try {
      const res = await fetch(`${url}${launch.readyPath}`);
      await res.body?.cancel();
      if (res.ok && !exited) return { url, command, stop };
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const [stdout, stderr] = await stop();
  const why = exited ? "exited before serving" : "did not start within 10 s";
  throw new Error(
    `${command} ${args.join(" ")} ${why} on port ${port}\n${command} output:\n${stdout}\n${stderr}`,
  );
}

/**
 * Starts a server process on a free port of 127.0.0.1 ({@linkcode startOnFreePort}), as
 * `launch(port)` says, runs `fn` against it once it serves, and stops it; its output is shown
 * when something fails.
 */
async function withServer<T>(
  launch: (port: number) => Launch | Promise<Launch>,
  fn: (url: string) => Promise<T>,
): Promise<T> {
  const server = await startOnFreePort(async (port) => startLaunch(port, await launch(port)));
  let result: T;
  try {
    result = await fn(server.url);
  } catch (error) {
    const [stdout, stderr] = await server.stop();
    throw new Error(`${error}\n${server.command} output:\n${stdout}\n${stderr}`);
  }
  await server.stop();
  return result;
}

/** Runs `fn` against a workerd serving a worker bundle, then stops it. */
async function withWorkerd<T>(
  compat: boolean,
  fn: (url: string) => Promise<T>,
  worker: { module: string; bindings?: string; readyPath?: string } = { module: "worker.js" },
): Promise<T> {
  const flags = compat ? `"nodejs_compat"` : "";
  const config = `${app}/worker/${worker.module}.${compat ? "compat" : "plain"}.capnp`;
  return await withServer(async (port) => {
    await Deno.writeTextFile(
      config,
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "${worker.module}")],
  compatibilityDate = "${COMPATIBILITY_DATE}",
  compatibilityFlags = [${flags}],
  bindings = [${worker.bindings ?? ""}],
);
`,
    );
    return {
      command: `${BIN}/workerd`,
      args: ["serve", config],
      cwd: `${app}/worker`,
      readyPath: worker.readyPath ?? "/readme",
    };
  }, fn);
}

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw new Error(`workerd answered ${res.status}: ${await res.text()}`);
  return await res.json() as T;
}

function workerdRuntime(name: string, compat: boolean): Runtime {
  return {
    name,
    nodeCrypto: compat,
    suite: () =>
      withWorkerd(compat, async (url) => json(await fetch(`${url}/suite?runtime=${name}`))),
    seal: () =>
      withWorkerd(compat, async (url) => json(await fetch(`${url}/seal?runtime=${name}`))),
    open: (cookies) =>
      withWorkerd(compat, async (url) =>
        json(
          await fetch(`${url}/open`, {
            method: "POST",
            body: JSON.stringify(cookies),
            headers: { "content-type": "application/json" },
          }),
        )),
  };
}

async function systemNode(): Promise<Runtime> {
  let version: string;
  try {
    version = (await exec("node", ["--version"])).stdout.trim();
  } catch {
    return { ...cliRuntime("node-system", "node"), unavailable: "no node on PATH" };
  }
  const [major = 0, minor = 0] = version.slice(1).split(".").map(Number);
  const runtime = cliRuntime(`node${major}-system`, "node");
  if (major < 20 || (major === 20 && minor < 16)) {
    return { ...runtime, unavailable: `the system Node is ${version}, below 20.16` };
  }
  return runtime;
}

function unless(tool: string, runtime: Runtime): Runtime {
  const why = missing.get(tool);
  return why ? { ...runtime, unavailable: `npm install ${tool} failed: ${why}` } : runtime;
}

const runtimes: Runtime[] = [
  cliRuntime(`deno${Deno.version.deno}`, Deno.execPath(), ["run", "--allow-read", "--allow-env"]),
  // What Deno Deploy runs, as .ci/run's second test pass does.
  cliRuntime(`deno${DEPLOY_DENO}`, "npx", [
    "--yes",
    `deno@${DEPLOY_DENO}`,
    "run",
    "--allow-read",
    "--allow-env",
  ]),
  unless("node", cliRuntime(`node${PINS.node.split(".")[0]}`, `${BIN}/node`)),
  await systemNode(),
  unless("bun", cliRuntime("bun", `${BIN}/bun`)),
  unless("workerd", workerdRuntime("workerd", false)),
  unless("workerd", workerdRuntime("workerd-nodejs_compat", true)),
];
const available = runtimes.filter((runtime) => !runtime.unavailable);

// ---- tests -----------------------------------------------------------------------------------

for (const runtime of runtimes) {
  const skipped = runtime.unavailable ? ` (SKIPPED: ${runtime.unavailable})` : "";
  Deno.test({
    name: `the installed package passes the round-trip suite on ${runtime.name}${skipped}`,
    ignore: runtime.unavailable !== undefined,
    sanitizeResources: false,
    async fn(t) {
      const report = await runtime.suite();
      assert.equal(report.runtime, runtime.name);
      assert.ok(report.results.length >= 10, `only ${report.results.length} checks ran`);
      for (const result of report.results) {
        await t.step(result.name, () => {
          if (!result.ok) throw new Error(result.error);
        });
      }
      await t.step(
        `the node:crypto backend is ${runtime.nodeCrypto ? "found" : "absent"} there`,
        () => assert.equal(report.nodeCrypto, runtime.nodeCrypto),
      );
    },
  });
}

Deno.test({
  name:
    `a cookie sealed on each runtime opens on every other (${available.length}×${available.length})`,
  sanitizeResources: false,
  async fn() {
    const sealed: Record<string, SealedCookies> = {};
    for (const runtime of available) sealed[runtime.name] = await runtime.seal();
    const failures: string[] = [];
    let opened = 0;
    for (const opener of available) {
      const results = await opener.open(sealed);
      for (const sealer of available) {
        const result = results[sealer.name];
        const plainOk = result?.plain?.sealedOn === sealer.name && result.plain.n === 42;
        const chunkedOk = result?.chunked?.sealedOn === sealer.name &&
          result.chunked.big === BIG;
        if (plainOk && chunkedOk) opened++;
        else {
          failures.push(
            `${sealer.name} → ${opener.name}: ${JSON.stringify(result).slice(0, 200)}`,
          );
        }
      }
    }
    console.log(`  ${opened}/${available.length ** 2} sealed→opened pairs, plain and chunked`);
    assert.deepEqual(failures, []);
  },
});

const compilers = [
  { name: "typescript", version: PINS.typescript },
  { name: "typescript7", version: PINS.typescript7.replace(/^npm:typescript@/, "") },
];
for (const compiler of compilers) {
  for (const resolution of ["bundler", "nodenext"] as const) {
    const why = missing.get(compiler.name);
    Deno.test({
      name:
        `tsc ${compiler.version} type-checks a consumer with moduleResolution "${resolution}", without Deno or Node types${
          why ? ` (SKIPPED: npm install failed: ${why})` : ""
        }`,
      ignore: why !== undefined,
      async fn() {
        const module = resolution === "bundler" ? "esnext" : "nodenext";
        const tsconfig = `${app}/tsconfig.${compiler.name}.${resolution}.json`;
        await Deno.writeTextFile(
          tsconfig,
          JSON.stringify({
            compilerOptions: {
              target: "es2022",
              module,
              moduleResolution: resolution,
              lib: ["es2022", "dom", "dom.iterable"],
              types: [],
              strict: true,
              noEmit: true,
              skipLibCheck: false,
            },
            files: ["src/runtimes/consumer.ts"],
          }),
        );
        const out = await exec(binary(compiler.name), ["-p", tsconfig], { cwd: app, check: false });
        assert.equal(out.code, 0, `tsc failed:\n${out.stdout}${out.stderr}`);
      },
    });
  }
}

Deno.test({
  name: `CommonJS on node${
    PINS.node.split(".")[0]
  } loads every entry with require() (no top-level await)${
    missing.has("node") ? " (SKIPPED: node could not be installed)" : ""
  }`,
  ignore: missing.has("node"),
  async fn() {
    const entries = ["", "/kv", "/redis", "/flask", "/seal", "/xaes"].map((e) =>
      `@sealed/sessions${e}`
    );
    await Deno.writeTextFile(
      `${app}/require.cjs`,
      `const entries = ${JSON.stringify(entries)};
const loaded = entries.map((entry) => Object.keys(require(entry)).length);
const { session } = require("@sealed/sessions");
if (typeof session !== "function") throw new Error("no session() from require()");
console.log(JSON.stringify(loaded));
`,
    );
    const out = await exec(`${BIN}/node`, ["require.cjs"], { cwd: app, check: false });
    assert.equal(out.code, 0, out.stderr);
    const counts: number[] = JSON.parse(out.stdout);
    assert.ok(counts.every((count) => count > 0), `an entry exported nothing: ${counts}`);
  },
});

Deno.test("esbuild bundles every entry to CommonJS, and the bundle loads with require()", async () => {
  const entries = ["", "/kv", "/redis", "/flask", "/seal", "/xaes"];
  await Deno.writeTextFile(
    `${app}/src/all.ts`,
    entries.map((e, i) => `export * as entry${i} from "@sealed/sessions${e}";`).join("\n") + "\n",
  );
  await exec(`${BIN}/esbuild`, [
    "src/all.ts",
    "--bundle",
    "--format=cjs",
    "--platform=node",
    "--outfile=all.cjs",
    "--log-level=warning",
  ], { cwd: app });
  const out = await exec("node", [
    "-e",
    "const all = require('./all.cjs'); console.log(typeof all.entry0.session)",
  ], { cwd: app, check: false });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout.trim(), "function");
});

// ---- the README's example app ----------------------------------------------------------------

const EXAMPLE_SECRET = "the README example's secret, 32 bytes or more";

/**
 * A browser's visit to the example app: count, log in (with a flash), log out; with a revocation
 * list, a second browser of the same user is signed out from the first.
 */
async function visitExample(url: string, everywhere = false): Promise<void> {
  const jar = new CookieJar();
  const text = async (res: Response) => {
    assert.equal(res.status, 200, `${res.url} answered ${res.status}`);
    return await res.text();
  };
  const redirect = async (res: Response) => {
    assert.equal(res.status, 303);
    await res.body?.cancel();
  };
  assert.equal(await text(await jar.fetch(`${url}/`)), "Hello stranger, visit 1");
  assert.equal(await text(await jar.fetch(`${url}/`)), "Hello stranger, visit 2");
  await redirect(await jar.fetch(`${url}/login/Ada`, { method: "POST" }));
  assert.equal(await text(await jar.fetch(`${url}/`)), "Welcome! Hello Ada, visit 3");
  assert.equal(await text(await jar.fetch(`${url}/`)), "Hello Ada, visit 4");
  await redirect(await jar.fetch(`${url}/logout`, { method: "POST" }));
  assert.deepEqual(jar.names, []);
  assert.equal(await text(await jar.fetch(`${url}/`)), "Hello stranger, visit 1");
  if (!everywhere) return;
  const [laptop, phone] = [new CookieJar(), new CookieJar()];
  for (const browser of [laptop, phone]) {
    await redirect(await browser.fetch(`${url}/login/Ada`, { method: "POST" }));
  }
  await redirect(await laptop.fetch(`${url}/logout-everywhere`, { method: "POST" }));
  assert.equal(await text(await phone.fetch(`${url}/`)), "Hello stranger, visit 1");
}

function exampleOn(
  name: string,
  command: string,
  args: string[],
  tool?: string,
  env: Record<string, string> = {},
) {
  const why = tool ? missing.get(tool) : undefined;
  Deno.test({
    name: `the README's example app serves on ${name}${
      why ? ` (SKIPPED: npm install ${tool} failed: ${why})` : ""
    }`,
    ignore: why !== undefined,
    sanitizeResources: false,
    async fn() {
      await withServer((port) => ({
        command,
        args,
        cwd: app,
        env: { SESSION_SECRET: EXAMPLE_SECRET, PORT: String(port), ...env },
        readyPath: "/",
      }), (url) => visitExample(url, env.SESSION_KV !== undefined));
    },
  });
}

exampleOn(
  `deno${Deno.version.deno}`,
  Deno.execPath(),
  [
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    "--unstable-kv",
    "examples/deno.ts",
  ],
  undefined,
  { SESSION_KV: `${scratch}/example.kv` },
);
exampleOn(`node${PINS.node.split(".")[0]}`, `${BIN}/node`, ["examples/node.ts"], "node");
exampleOn("bun", `${BIN}/bun`, ["examples/bun.ts"], "bun");
for (const compat of [false, true]) {
  const name = compat ? "workerd-nodejs_compat" : "workerd";
  Deno.test({
    name: `the README's example app serves on ${name}${
      missing.has("workerd") ? ` (SKIPPED: npm install workerd failed)` : ""
    }`,
    ignore: missing.has("workerd"),
    sanitizeResources: false,
    async fn() {
      await withWorkerd(compat, visitExample, {
        module: "example.js",
        bindings: `(name = "SESSION_SECRET", text = "${EXAMPLE_SECRET}")`,
        readyPath: "/",
      });
    },
  });
}
