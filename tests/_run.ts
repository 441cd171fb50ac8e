/**
 * Runs `deno test` with its output captured, for `deno task test`: a passing run prints a line
 * of progress dots, the tests that were skipped and why, and the summary; a failing run prints
 * everything `deno test` wrote (download and check lines, every test, console and subprocess
 * output, the failures with their stack traces) and exits with its exit code.
 *
 * ```sh
 * deno run --allow-run --allow-read --allow-env tests/_run.ts test --allow-net lib/
 * ```
 *
 * Arguments are passed to the Deno running this script, unchanged.
 *
 * @module
 */

const encoder = new TextEncoder();
// deno-lint-ignore no-control-regex -- colour codes (ESC [ … m) are what this removes
const ANSI = /\x1b\[[0-9;]*m/g;
// Lines kept from a passing run: skipped tests and warnings about skips, then the summary
// (the last one: a test that runs `deno test` in a subprocess prints its own first).
const KEPT = [/ \.\.\. ignored/, /skipping/i];
const SUMMARY = /^(ok|FAILED) \| /;
// A dot per test (steps, indented, are not counted), so progress shows on one short line.
const PROGRESS = /^\S.* \.\.\. ok\b/;
const SLOW = /has been running for over/;

/**
 * Writes all of `text` to stdout. One `Deno.stdout.write` may take only part of it, and on a
 * non-blocking pipe (a parent may hand one over) a full pipe refuses more until it is read:
 * ignoring either would cut a failing run's log before its failures.
 */
async function print(text: string): Promise<void> {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    try {
      written += await Deno.stdout.write(bytes.subarray(written));
    } catch (error) {
      if (!(error instanceof Deno.errors.WouldBlock)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/**
 * Runs Deno with `args`, captured.
 *
 * @param args The arguments, e.g. `["test", "--allow-net"]`.
 * @returns The exit code of that run.
 */
export async function runQuietly(args: readonly string[]): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // One log in arrival order, stdout and stderr together, as a terminal would show them.
  const chunks: string[] = [];
  let dots = 0;
  const read = async (stream: ReadableStream<Uint8Array>) => {
    let partial = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      chunks.push(text);
      const lines = (partial + text).split("\n").map((line) => line.replace(ANSI, ""));
      partial = lines.pop() ?? "";
      const done = lines.filter((line) => PROGRESS.test(line)).length;
      // A test that hangs says so at once, not only when the run ends.
      const slow = lines.filter((line) => SLOW.test(line)).map((line) => `\n${line}\n`);
      const progress = ".".repeat(done) + slow.join("");
      if (progress) await print(progress);
      dots += done;
    }
  };
  const [status] = await Promise.all([child.status, read(child.stdout), read(child.stderr)]);
  if (dots > 0) await print("\n");
  const log = chunks.join("");
  if (status.code === 0) {
    const lines = log.split("\n").map((line) => line.replace(ANSI, ""));
    const kept = lines.filter((line) => KEPT.some((re) => re.test(line)));
    const summary = lines.findLast((line) => SUMMARY.test(line));
    await print([...kept, summary ?? ""].join("\n") + "\n");
  } else {
    await print(log);
  }
  return status.code;
}

if (import.meta.main) {
  Deno.exit(await runQuietly(Deno.args));
}
