/**
 * Start-up of the greeting service as a real process: a configuration the process cannot use
 * (a `SESSION_KV` it may not write, a `PORT` already taken, an address that is not this
 * machine's) ends it with one line naming the variable and what to do, exit code 1, and no
 * stack trace.
 */

import assert from "node:assert/strict";
import { ROOT, runMain, startServer } from "./_server.ts";

const SECRET = "startup test secret: thirty-two bytes or more";

function assertOneLineError(stderr: string, variable: RegExp): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line on stderr, received:\n${stderr}`);
  assert.match(lines[0]!, /^Cannot start: /);
  assert.match(lines[0]!, variable);
  assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
  assert.doesNotMatch(stderr, /uncaught/i);
}

Deno.test("deno task start with SESSION_KV outside .data/ exits 1 with one line naming it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The real task, with its real permissions: it may write under .data/ only.
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "start"],
      cwd: ROOT,
      env: {
        SESSION_SECRET: SECRET,
        SESSION_KV: `${dir}/sessions.sqlite`,
        PORT: "0",
        HOSTNAME: "127.0.0.1",
        NO_COLOR: "1",
      },
      stdin: "null",
      signal: AbortSignal.timeout(30_000),
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 1, stderr);
    assertOneLineError(stderr, /SESSION_KV=".*sessions\.sqlite".*\.data\//);
    assert.equal(new TextDecoder().decode(output.stdout), "", "it never listened");
    const created = await Array.fromAsync(Deno.readDir(dir));
    assert.deepEqual(created, [], "nothing was written outside .data/");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("A SESSION_KV that cannot be opened is a one-line start-up error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A folder where the file should be: writable, yet not a database.
    await Deno.mkdir(`${dir}/sessions.sqlite`);
    const { code, stderr } = await runMain({
      env: { SESSION_SECRET: SECRET, SESSION_KV: `${dir}/sessions.sqlite` },
      allowWrite: dir,
    });
    assert.equal(code, 1, stderr);
    assertOneLineError(stderr, /SESSION_KV=".*sessions\.sqlite" could not be opened/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("A PORT already in use is a one-line start-up error naming PORT", async () => {
  const other = await startServer({ env: { SESSION_SECRET: SECRET } });
  try {
    const port = new URL(other.url).port;
    const { code, stderr } = await runMain({ env: { SESSION_SECRET: SECRET, PORT: port } });
    assert.equal(code, 1, stderr);
    assertOneLineError(stderr, new RegExp(`port ${port} .*already in use.*PORT=0`));
  } finally {
    await other.stop();
  }
});

Deno.test("A HOSTNAME that is not this machine's is a one-line start-up error", async () => {
  // 192.0.2.1 is TEST-NET-1: never assigned to a local interface, and binding sends nothing.
  const { code, stderr } = await runMain({
    env: { SESSION_SECRET: SECRET, HOSTNAME: "192.0.2.1" },
  });
  assert.equal(code, 1, stderr);
  assertOneLineError(stderr, /HOSTNAME="192\.0\.2\.1"/);
});
