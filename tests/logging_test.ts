/**
 * What the greeting service prints and where it listens, as a real process: dev mode binds
 * loopback only and prints a URL one can open, and logs one line per request; `deno task
 * start` logs start-up and errors only, unless `LOG_REQUESTS` says otherwise. Errors are logged
 * by name and message, never with what their causes carry.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../main.ts";
import { redisStore } from "../lib/redis/mod.ts";
import { createApp } from "../routes/app.tsx";
import { runMain, type RunningServer, startServer } from "./_server.ts";

const SECRET = "logging test secret: thirty-two bytes or more";
const REQUEST_LINE = /^(GET|POST|HEAD|PUT|DELETE) \/\S* \d{3} \d+\.\dms$/;

// Addresses with a listening TCP socket on `port`, from the kernel's own table (IPv4 and
// IPv6), e.g. ["127.0.0.1"]. Undefined where /proc is not available.
async function listeningAddresses(port: number): Promise<string[] | undefined> {
  const found: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let table: string;
    try {
      table = await Deno.readTextFile(file);
    } catch {
      if (file.endsWith("6")) continue;
      return undefined;
    }
    for (const line of table.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== "0A") continue; // 0A: LISTEN
      const [address = "", hexPort = ""] = local.split(":");
      if (parseInt(hexPort, 16) !== port) continue;
      found.push(address.length === 8 ? ipv4(address) : `ipv6:${address}`);
    }
  }
  return found;
}

function ipv4(hex: string): string {
  // The kernel prints the address in host (little-endian) byte order.
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(".");
}

async function waitForLines(server: RunningServer, count: number): Promise<string[]> {
  // The line is written before the response is sent; reading the pipe takes a moment more.
  for (let i = 0; i < 50; i++) {
    const lines = requestLines(server);
    if (lines.length >= count) return lines;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return requestLines(server);
}

function requestLines(server: RunningServer): string[] {
  return server.stdout().split("\n").filter((line) => REQUEST_LINE.test(line));
}

async function visit(url: string): Promise<void> {
  for (
    const res of [
      await fetch(`${url}/`),
      await fetch(`${url}/greeting`, {
        method: "POST",
        body: new URLSearchParams({ name: "Ada", lastname: "Lovelace" }),
      }),
      await fetch(`${url}/no-such-page?name=secret`),
    ]
  ) await res.body?.cancel();
}

Deno.test("Dev mode listens on localhost only and prints a URL one can open", async () => {
  // HOSTNAME empty is HOSTNAME unset: the default of dev mode applies.
  const server = await startServer({ args: ["--dev"], env: { HOSTNAME: "" } });
  try {
    const port = Number(new URL(server.url).port);
    assert.match(server.stdout(), new RegExp(`^Listening on http://localhost:${port}/$`, "m"));
    const addresses = await listeningAddresses(port);
    if (addresses === undefined) {
      console.warn("no /proc/net/tcp: the bound address is not checked");
    } else {
      assert.deepEqual(addresses, ["127.0.0.1"], "bound to loopback, not to every interface");
    }
  } finally {
    await server.stop();
  }
});

Deno.test("deno task start and Deno Deploy keep listening on all interfaces", () => {
  // Not bound here: tests listen on 127.0.0.1 only. The configuration decides the address.
  assert.equal(loadConfig({ SESSION_SECRET: SECRET }).hostname, "0.0.0.0");
  const deploy = loadConfig({ SESSION_SECRET: SECRET, DENO_DEPLOYMENT_ID: "d" }, { dev: true });
  assert.equal(deploy.hostname, "0.0.0.0");
  assert.equal(loadConfig({}, { dev: true }).hostname, "localhost");
  assert.equal(loadConfig({ HOSTNAME: "0.0.0.0" }, { dev: true }).hostname, "0.0.0.0");
});

Deno.test("Dev mode logs one line per request: method, path, status, time", async () => {
  const server = await startServer({ args: ["--dev"] });
  try {
    await visit(server.url);
    const lines = await waitForLines(server, 4);
    // The first is the /healthz request that startServer made to see the server up.
    assert.deepEqual(lines.map((line) => line.replace(/ \d+\.\dms$/, "")), [
      "GET /healthz 200",
      "GET / 200",
      "POST /greeting 200",
      "GET /no-such-page 404",
    ]);
    assert.doesNotMatch(server.stdout(), /secret/, "the query string is never logged");
  } finally {
    await server.stop();
  }
});

Deno.test("deno task start logs no requests unless LOG_REQUESTS=1", async (t) => {
  const cases: Array<[string, Record<string, string>, string[], number]> = [
    ["start: start-up only", { SESSION_SECRET: SECRET }, [], 0],
    ["start with LOG_REQUESTS=1", { SESSION_SECRET: SECRET, LOG_REQUESTS: "1" }, [], 4],
    ["dev with LOG_REQUESTS=0", { LOG_REQUESTS: "0" }, ["--dev"], 0],
  ];
  for (const [label, env, args, expected] of cases) {
    await t.step(label, async () => {
      const server = await startServer({ env, args });
      try {
        await visit(server.url);
        // Absence can only be waited for: 4 lines or 1 s, whichever comes first.
        const lines = await waitForLines(server, 4);
        assert.equal(lines.length, expected, server.stdout());
        assert.match(server.stdout(), /^Listening on http:\/\/127\.0\.0\.1:\d+\/$/m);
      } finally {
        await server.stop();
      }
    });
  }
});

Deno.test("A bad LOG_REQUESTS is a start-up error naming it", async () => {
  const { code, stderr } = await runMain({ env: { SESSION_SECRET: SECRET, LOG_REQUESTS: "yes" } });
  assert.equal(code, 1, stderr);
  assert.match(stderr, /LOG_REQUESTS must be 1 \(or true\) or 0 \(or false\), received "yes"/);
});

/**
 * An error as ioredis rejects a command with: the command it failed on, arguments included,
 * rides along as a property.
 */
function replyError(args: string[]): Error {
  const error = new Error("OOM command not allowed when used memory > 'maxmemory'");
  error.name = "ReplyError";
  Object.assign(error, { command: { name: args[0], args: args.slice(1) } });
  return error;
}

/** Runs `body` with console.error captured, returning everything it printed. */
async function capturingErrors(body: () => Promise<void>): Promise<string> {
  const printed: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void printed.push(Deno.inspect(args, { depth: 10 }));
  try {
    await body();
  } finally {
    console.error = original;
  }
  return printed.join("\n");
}

Deno.test("A failed Redis command is logged by name and message, never with the session it carried", async () => {
  // Redis refuses the write; the client's error carries the command: the session JSON.
  const client = {
    call: (...args: string[]) => Promise.reject(replyError(args)),
  };
  const app = createApp({ secrets: [SECRET], session: { store: redisStore(client) } });
  let status = 0;
  const printed = await capturingErrors(async () => {
    const res = await app.request("/greeting", {
      method: "POST",
      headers: { accept: "application/json" },
      body: new URLSearchParams({ name: "Ada", lastname: "Secretsson" }),
    });
    status = res.status;
    await res.body?.cancel();
  });
  assert.equal(status, 503);
  assert.match(
    printed,
    /Unexpected error on POST \/greeting: SessionStoreUnavailableError: Cannot save the session/,
  );
  assert.match(printed, /ReplyError: OOM command not allowed/);
  assert.doesNotMatch(printed, /Secretsson/);
});

Deno.test("An error thrown from a route is logged without the properties of its causes", async () => {
  const app = createApp({ secrets: [SECRET] });
  app.get("/fails", () => {
    throw new Error("Cannot save the order", {
      cause: replyError(["SET", "order:1", "card 4111"]),
    });
  });
  const printed = await capturingErrors(async () => {
    const res = await app.request("/fails");
    assert.equal(res.status, 500);
    await res.body?.cancel();
  });
  assert.match(printed, /Error: Cannot save the order \(ReplyError: OOM command not allowed/);
  assert.doesNotMatch(printed, /4111/);
});
