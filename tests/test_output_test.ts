/**
 * `deno task test` as a reader sees it: a passing run is a short summary (noise from tests
 * and their subprocesses hidden, skipped tests still named), a failing run shows everything
 * and exits non-zero. Drives the first command of the real task on fixture test files.
 */

import assert from "node:assert/strict";
import { ROOT } from "./_server.ts";

// deno-lint-ignore no-control-regex -- colour codes (ESC [ … m) are what this removes
const ANSI = /\x1b\[[0-9;]*m/g;

// The first command of `deno task test`, as written in deno.json, on one fixture file.
async function taskArgs(fixture: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const first = String(config.tasks.test).split("&&")[0]!.trim().split(/\s+/);
  assert.equal(first[0], "deno", "the test task starts with deno");
  return [...first.slice(1), `tests/fixtures/test_output/${fixture}`];
}

async function runTaskOn(fixture: string): Promise<{ code: number; output: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: await taskArgs(fixture),
    cwd: ROOT,
    stdin: "null",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const decoder = new TextDecoder();
  const text = decoder.decode(output.stdout) + decoder.decode(output.stderr);
  return { code: output.code, output: text.replace(ANSI, "") };
}

Deno.test("A passing run of the test task reads as a short summary", async () => {
  const { code, output } = await runTaskOn("passing.ts");
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, /NOISE/, "test and subprocess output is hidden");
  assert.doesNotMatch(output, /^Check /m, "no type-check lines");
  assert.match(output, /^ok \| 2 passed \| 0 failed \| 1 ignored/m);
  assert.match(output, /a skipped test \(no such tool here\) \.\.\. ignored/, "skips stay visible");
  assert.ok(output.trim().split("\n").length <= 4, `short:\n${output}`);
});

Deno.test("A failing run of the test task shows everything and fails", async () => {
  const { code, output } = await runTaskOn("failing.ts");
  assert.notEqual(code, 0, "the task fails when a test fails");
  assert.match(output, /a failing test \.\.\. FAILED/);
  assert.match(output, /EXPECTED FAILURE: arithmetic broke/);
  assert.match(output, /CLUE printed by the failing test/, "the failing test's output is shown");
  assert.match(output, /failing\.ts:\d+:\d+/, "with where it failed");
  assert.match(output, /^FAILED \| 1 passed \| 1 failed/m);
});

const PYTHON = ["/usr/bin/python3", "/usr/local/bin/python3"].find((path) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
});

// Runs the command with its stdout on a non-blocking pipe (as some parents hand over, shared
// with them) read only after a pause, so that the pipe fills: writes then take several calls.
const NON_BLOCKING_PIPE = `
import fcntl, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
child = subprocess.Popen(sys.argv[1:], stdout=w, stderr=subprocess.STDOUT)
os.close(w)
time.sleep(1)
with os.fdopen(r, "rb") as pipe:
    sys.stdout.buffer.write(pipe.read())
sys.exit(child.wait())
`;

Deno.test({
  name: `A failing run of the test task shows its failure on a non-blocking pipe${
    PYTHON ? "" : " (ignored: no python3 to make the pipe)"
  }`,
  ignore: PYTHON === undefined,
  async fn() {
    const output = await new Deno.Command(PYTHON!, {
      args: ["-c", NON_BLOCKING_PIPE, Deno.execPath(), ...await taskArgs("failing_loud.ts")],
      cwd: ROOT,
      stdin: "null",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const text = new TextDecoder().decode(output.stdout).replace(ANSI, "");
    assert.notEqual(output.code, 0, "the task fails when a test fails");
    assert.ok(text.length > 256 * 1024, `the whole log, not ${text.length} bytes of it`);
    assert.match(text, /EXPECTED FAILURE after the noise/);
    assert.match(text, /^FAILED \| 1 passed \| 1 failed/m);
  },
});
