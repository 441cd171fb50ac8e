/**
 * Runs the code blocks of README.md and of every docs/*.md as written, so that none of them rots.
 * Each file is one test that checks every block is run or marked, and one test with a step per
 * block.
 *
 * How their fenced code blocks are treated (the words after the opening fence are the block's
 * info string: a language, then tags):
 *
 * - Fences are lines of three backticks, indented by at most three spaces (the indent is
 *   removed from the block's lines). Every block must name its language.
 * - `ignore` (e.g. ```` ```sh ignore ````): never run. Use it only for what a test cannot or must
 *   not do, and let the surrounding prose say why: installers (`curl … | sh`, `npm install -g`),
 *   commands needing an account or another machine (`deno deploy`, a production Redis),
 *   benchmarks, and `deno task test` itself.
 * - `sh`, `bash`, `shell`: run with `bash -euo pipefail` in the repository root, with a clean
 *   environment (`PATH`, `HOME`, Deno's cache variables, `NO_COLOR=1`). The block must exit 0
 *   within 60 s and leave no new file in the repository (compared with `git status`). Every
 *   `http://localhost:8000` in it is replaced by the address of a greeting service this test
 *   starts (`main.ts` with a fresh `SESSION_SECRET`, on a free port of 127.0.0.1), so blocks
 *   that talk to the service run against a real server.
 * - `sh server`: a block that starts a server and runs until stopped (`deno task dev`,
 *   `… deno task start`). Run as above with `PORT=0` and `HOSTNAME=127.0.0.1` added to its
 *   environment; it must print `Listening on http://…:PORT/` within 60 s and then answer
 *   `GET /healthz` with 200. Its whole process group then gets SIGINT, as from Ctrl-C.
 * - `ts`, `typescript`, `js`, `javascript`: written to a temporary file in the repository root
 *   (so `./lib/mod.ts` and the `deno.json` imports, `@sealed/sessions` among them, resolve),
 *   type-checked with `deno check`, then run with `deno run -A`; it must exit 0 within 60 s.
 * - `ts serve` (and `js serve`): a module whose default export has a `fetch` (e.g. a Hono app).
 *   Type-checked, then served with `deno serve -A --host 127.0.0.1 --port 0`; `GET /` must
 *   answer below 400.
 * - `ts check` (and `js check`): type-checked only, for a module that needs what this test
 *   cannot give it (a Redis server); the prose says so.
 * - TypeScript and JavaScript blocks run with `SESSION_SECRET` (random), `SESSION_KV` (a file in
 *   a temporary folder) and `FLASK_SECRET_KEY` set, and nothing else of the parent's
 *   environment but what Deno needs.
 * - A block that is exactly a file of `examples/` (the example app and its entry for each
 *   runtime) is not run here: `tests/examples_test.ts` checks that the README or docs show it as
 *   it is and drives the app, and `deno task test:runtimes` serves each entry on its runtime.
 * - Fences of four or more backticks work too, and close only on a fence at least as long.
 * - Other languages are configuration or output shown for reading (`haproxy`, `nginx`, `ini`,
 *   `json`, `text`, …, see DATA_LANGUAGES) and are not run; `deploy/haproxy.cfg` has its own
 *   test. A language not listed anywhere here fails the test: run it, list it, or mark it
 *   `ignore`.
 */

import assert from "node:assert/strict";
import { childEnv, ROOT, type RunningServer, startServer } from "./_server.ts";

/** The Markdown files whose blocks are run, relative to the repository root. */
const DOCUMENTS = [
  "README.md",
  ...[...Deno.readDirSync(`${ROOT}docs`)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => `docs/${entry.name}`)
    .sort(),
];
const SHELL_LANGUAGES = new Set(["sh", "bash", "shell"]);
const SCRIPT_LANGUAGES = new Set(["ts", "typescript", "js", "javascript"]);
const DATA_LANGUAGES = new Set([
  "haproxy",
  "ini",
  "json",
  "jsonc",
  "yaml",
  "toml",
  "text",
  "txt",
  "dockerfile",
  "nginx",
  "http",
  "console",
  "html",
  "css",
]);
const TIMEOUT_MS = 60_000;

/** A fenced block of a Markdown file. */
interface Block {
  /** The file, relative to the repository root. */
  file: string;
  /** Line of the opening fence, 1-based. */
  line: number;
  language: string;
  tags: string[];
  code: string;
}

function readBlocks(file: string, markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i]!.match(/^( {0,3})(`{3,})([^`]*)$/);
    if (!open) continue;
    const indent = open[1]!.length;
    const fence = open[2]!;
    const [language = "", ...tags] = open[3]!.trim().split(/\s+/).filter((word) => word !== "");
    // A closing fence is at least as long as the opening one, so ``` may appear inside ````.
    const close = new RegExp(`^ {0,3}\`{${fence.length},}\\s*$`);
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !close.test(lines[j]!)) {
      body.push(lines[j]!.slice(Math.min(indent, lines[j]!.search(/\S|$/))));
      j++;
    }
    assert.ok(j < lines.length, `${file}:${i + 1}: the code block is never closed`);
    blocks.push({
      file,
      line: i + 1,
      language: language.toLowerCase(),
      tags,
      code: body.join("\n"),
    });
    i = j;
  }
  return blocks;
}

// Files of examples/ shown verbatim in the documents: tests/examples_test.ts checks the copies
// and the app, `deno task test:runtimes` serves each entry on its runtime.
async function exampleCopies(): Promise<Map<string, string>> {
  const copies = new Map<string, string>();
  for await (const entry of Deno.readDir(`${ROOT}examples`)) {
    if (!entry.isFile) continue;
    const source = await Deno.readTextFile(`${ROOT}examples/${entry.name}`);
    copies.set(source.replace(/\n$/, ""), `examples/${entry.name}`);
  }
  return copies;
}

async function untrackedFiles(): Promise<string> {
  const output = await new Deno.Command("git", {
    args: ["status", "--porcelain", "--untracked-files=all"],
    cwd: ROOT,
    stdin: "null",
  }).output();
  return new TextDecoder().decode(output.stdout);
}

function describe(output: Deno.CommandOutput): string {
  const decoder = new TextDecoder();
  return `exit ${output.code}\nstdout:\n${decoder.decode(output.stdout)}\nstderr:\n${
    decoder.decode(output.stderr)
  }`;
}

async function runShell(block: Block, service: () => Promise<RunningServer>): Promise<void> {
  let code = block.code;
  if (code.includes("http://localhost:8000")) {
    code = code.replaceAll("http://localhost:8000", (await service()).url);
  }
  const before = await untrackedFiles();
  const output = await new Deno.Command("bash", {
    args: ["-euo", "pipefail", "-c", code],
    cwd: ROOT,
    clearEnv: true,
    env: childEnv(),
    stdin: "null",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }).output();
  assert.equal(output.code, 0, describe(output));
  assert.equal(await untrackedFiles(), before, "the block left files in the repository");
}

async function runShellServer(block: Block): Promise<void> {
  // setsid: the block, `deno task` and the server it starts share a process group to stop.
  const res = await getFromServer(
    "setsid",
    ["bash", "-euo", "pipefail", "-c", block.code],
    childEnv({ PORT: "0", HOSTNAME: "127.0.0.1" }),
    "/healthz",
    stopGroup,
  );
  assert.equal(res.status, 200, res.text);
}

// Starts a server process, waits for its `Listening on` line and sends it GET `path`; `stop`
// ends it whatever happened.
async function getFromServer(
  command: string,
  args: string[],
  env: Record<string, string>,
  path: string,
  stop: (child: Deno.ChildProcess, drained: Promise<unknown>) => Promise<void>,
): Promise<{ status: number; text: string }> {
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = collect(child);
  try {
    const url = await output.waitFor(/Listening on (http:\/\/\S+?:\d+)\//);
    const res = await fetch(`${url.replace("localhost", "127.0.0.1")}${path}`);
    return { status: res.status, text: await res.text() };
  } finally {
    await stop(child, output.done);
  }
}

// SIGINT to the block's process group, as Ctrl-C in a terminal, then SIGKILL if anything is left
// after 10 s.
async function stopGroup(child: Deno.ChildProcess, drained: Promise<unknown>): Promise<void> {
  const signal = (name: Deno.Signal) => {
    try {
      Deno.kill(-child.pid, name);
    } catch {
      // Already gone.
    }
  };
  signal("SIGINT");
  const timer = setTimeout(() => signal("SIGKILL"), 10_000);
  try {
    await child.status;
    await drained;
  } finally {
    clearTimeout(timer);
  }
}

async function runScript(block: Block): Promise<void> {
  const dir = await Deno.makeTempDir();
  const extension = block.language.startsWith("j") ? "js" : "ts";
  const name = block.file.replace(/\W+/g, "_");
  const file = `${ROOT}.block_${name}_${block.line}_${crypto.randomUUID()}.${extension}`;
  const env = childEnv({
    SESSION_SECRET: crypto.randomUUID() + crypto.randomUUID(),
    SESSION_KV: `${dir}/sessions.sqlite`,
    FLASK_SECRET_KEY: "readme test flask key",
  });
  try {
    await Deno.writeTextFile(file, block.code + "\n");
    const deno = (...args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args,
        cwd: ROOT,
        clearEnv: true,
        env,
        stdin: "null",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      }).output();
    const checked = await deno("check", file);
    assert.equal(checked.code, 0, `deno check failed: ${describe(checked)}`);
    if (block.tags.includes("check")) return;
    if (!block.tags.includes("serve")) {
      const ran = await deno("run", "-A", file);
      assert.equal(ran.code, 0, describe(ran));
      return;
    }
    const res = await getFromServer(
      Deno.execPath(),
      ["serve", "-A", "--host", "127.0.0.1", "--port", "0", file],
      env,
      "/",
      async (child, drained) => {
        try {
          child.kill("SIGTERM");
        } catch {
          // Already gone.
        }
        await child.status;
        await drained;
      },
    );
    assert.ok(res.status < 400, `GET / answered ${res.status}: ${res.text}`);
  } finally {
    await Deno.remove(file).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

// Collects a child's output and waits for a line in it.
function collect(child: Deno.ChildProcess) {
  let text = "";
  let exited = false;
  let notify = () => {};
  const read = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      notify();
    }
  };
  const done = Promise.all([read(child.stdout), read(child.stderr)]);
  child.status.then(() => {
    exited = true;
    notify();
  });
  return {
    done,
    waitFor(pattern: RegExp): Promise<string> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${pattern} in 60 s:\n${text}`)),
          TIMEOUT_MS,
        );
        notify = () => {
          const match = text.match(pattern);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          } else if (exited) {
            clearTimeout(timer);
            reject(new Error(`exited before ${pattern}:\n${text}`));
          }
        };
        notify();
      });
    },
  };
}

const copies = await exampleCopies().catch(() => new Map<string, string>());

for (const file of DOCUMENTS) {
  const blocks = readBlocks(file, await Deno.readTextFile(`${ROOT}${file}`));

  Deno.test(`${file}: every code block is run or marked`, () => {
    if (file === "README.md") assert.ok(blocks.length >= 4, "README.md examples were found");
    const unknown = blocks.filter((block) =>
      !block.tags.includes("ignore") && !SHELL_LANGUAGES.has(block.language) &&
      !SCRIPT_LANGUAGES.has(block.language) && !DATA_LANGUAGES.has(block.language)
    );
    assert.deepEqual(
      unknown.map((block) => `${file}:${block.line} "${block.language}"`),
      [],
      "name a language this test runs or lists, or mark the block `ignore`",
    );
  });

  // A file without runnable blocks (docs/pages.md, docs/security.md) has nothing to run.
  if (
    !blocks.some((block) =>
      SHELL_LANGUAGES.has(block.language) || SCRIPT_LANGUAGES.has(block.language)
    )
  ) continue;
  Deno.test({
    name: `${file}: every example runs as written`,
    async fn(t) {
      let server: RunningServer | undefined;
      const service = async () =>
        server ??= await startServer({ env: { SESSION_SECRET: crypto.randomUUID().repeat(2) } });
      try {
        for (const block of blocks) {
          // Reference (configuration, output) is for reading: no step. A language nobody runs
          // fails the test above; it is not run as a guess here.
          const known = SHELL_LANGUAGES.has(block.language) ||
            SCRIPT_LANGUAGES.has(block.language);
          if (!known) continue;
          const name = `${file}:${block.line} ${[block.language, ...block.tags].join(" ")}`;
          const copy = copies.get(block.code);
          const ignored = block.tags.includes("ignore") || copy !== undefined;
          await t.step({
            name: copy ? `${name} (${copy}, tested there)` : ignored ? `${name} (not run)` : name,
            ignore: ignored,
            async fn() {
              if (SCRIPT_LANGUAGES.has(block.language)) await runScript(block);
              else if (block.tags.includes("server")) await runShellServer(block);
              else await runShell(block, service);
            },
          });
        }
      } finally {
        await server?.stop();
      }
    },
  });
}
