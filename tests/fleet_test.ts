/**
 * A fleet, not one process: three real instances of `main.ts` on 127.0.0.1, a few hundred
 * visitors each with their own cookie jar, requests spread round-robin over the instances by
 * the test itself (standing in for the load balancer), while the instances are restarted one
 * by one with a new environment. Instances therefore disagree for a while, as in every real
 * rollout.
 *
 * The "balancer" retries a request on the next instance when the connection fails or the
 * instance answers 503 (draining), as haproxy's `retries` with `option redispatch` does; those
 * retries are counted and reported, never hidden.
 */

import assert from "node:assert/strict";
import { CookieJar } from "./_cookie_jar.ts";
import { type RunningServer, startServer } from "./_server.ts";

const OLD = "fleet-test-old-secret-of-at-least-32-bytes";
const NEW = "fleet-test-new-secret-of-at-least-32-bytes";
const INSTANCES = 3;
const USERS = 300;
/** Visitors browsing at once; each one's requests are sequential, as a browser's. */
const WORKERS = 12;
/** Reads that must flow between two restarts, so that instances disagree under traffic. */
const READS_BETWEEN_RESTARTS = USERS;
/** Hard bound on the requests one case may make. */
const MAX_REQUESTS = 20_000;
/** Every tenth request of the traffic is a write (the visitor posts the greeting again). */
const WRITE_EVERY = 10;

type Env = Record<string, string>;

interface User {
  readonly name: string;
  readonly lastname: string;
  readonly jar: CookieJar;
}

interface Counts {
  requests: number;
  reads: number;
  writes: number;
  /** Reads answered with an empty session: the visitor saw themselves logged out. */
  emptyReads: number;
  /** Reads answered with someone else's data, or data the visitor never set. */
  wrongReads: number;
  /** Attempts that failed on one instance (refused, reset, 503) and went to the next. */
  retries: number;
  /** Requests that failed on every instance. */
  failed: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The instances and the round-robin "balancer" in front of them. */
class Fleet {
  readonly #slots: { server: RunningServer; up: boolean }[] = [];
  #next = 0;
  readonly counts: Counts = {
    requests: 0,
    reads: 0,
    writes: 0,
    emptyReads: 0,
    wrongReads: 0,
    retries: 0,
    failed: 0,
  };

  async start(env: Env): Promise<void> {
    const servers = await Promise.allSettled(
      Array.from({ length: INSTANCES }, () => startServer({ env })),
    );
    for (const result of servers) {
      if (result.status === "fulfilled") this.#slots.push({ server: result.value, up: true });
    }
    const failure = servers.find((result) => result.status === "rejected");
    if (failure) throw (failure as PromiseRejectedResult).reason;
  }

  /**
   * Replaces instance `i` by one with `env`: SIGTERM (graceful) or SIGKILL (a crash). Requests
   * keep flowing to it until it stops answering, as a balancer learns only from failures;
   * `whileDown` runs between the old process's exit and the new one's start.
   *
   * @returns The old process's exit status.
   */
  async restart(
    i: number,
    env: Env,
    how: "SIGTERM" | "SIGKILL",
    whileDown: () => Promise<void> = () => Promise.resolve(),
  ): Promise<Deno.CommandStatus> {
    const slot = this.#slots[i]!;
    Deno.kill(slot.server.pid, how);
    const status = await slot.server.exited;
    await slot.server.stop();
    slot.up = false;
    await whileDown();
    slot.server = await startServer({ env });
    slot.up = true;
    return status;
  }

  /** Sends a request for `user` to the next instance up, retrying on the following ones. */
  async send(user: User, path: string, init: RequestInit = {}): Promise<Response | undefined> {
    this.counts.requests++;
    for (let attempt = 0; attempt < INSTANCES * 3; attempt++) {
      const slot = this.#pick();
      if (!slot) {
        await sleep(20);
        continue;
      }
      const server = slot.server;
      try {
        const res = await user.jar.fetch(`${server.url}${path}`, {
          ...init,
          signal: AbortSignal.timeout(10_000),
        });
        if (res.status !== 503) return res;
        await res.body?.cancel();
      } catch {
        // Refused or reset: the instance is stopping or gone.
      }
      // Taken out until the restart brings it back (on a new port).
      if (slot.server === server) slot.up = false;
      this.counts.retries++;
    }
    this.counts.failed++;
    return undefined;
  }

  #pick(): { server: RunningServer; up: boolean } | undefined {
    for (let n = 0; n < this.#slots.length; n++) {
      const slot = this.#slots[this.#next++ % this.#slots.length]!;
      if (slot.up) return slot;
    }
    return undefined;
  }

  /** What the instance at `i` serves right now, for checks that must reach each of them. */
  url(i: number): string {
    return this.#slots[i]!.server.url;
  }

  async stop(): Promise<void> {
    await Promise.all(this.#slots.map((slot) => slot.server.stop()));
  }
}

function makeUsers(): User[] {
  // Names are letters only, distinct per visitor: "Ada" + a base-26 suffix.
  const suffix = (i: number) => {
    let text = "";
    do {
      text += String.fromCharCode(97 + (i % 26));
      i = Math.floor(i / 26);
    } while (i > 0);
    return text;
  };
  return Array.from({ length: USERS }, (_, i) => ({
    name: `Ada${suffix(i)}`,
    lastname: `Lovelace${suffix(i * 7 + 3)}`,
    jar: new CookieJar(),
  }));
}

async function post(fleet: Fleet, user: User): Promise<void> {
  const res = await fleet.send(user, "/greeting", {
    method: "POST",
    headers: { accept: "text/plain" },
    body: new URLSearchParams({ name: user.name, lastname: user.lastname }),
  });
  if (!res) return;
  const text = await res.text();
  assert.equal(res.status, 200, text);
  fleet.counts.writes++;
}

/** One read; true when the visitor saw their own session. */
async function read(fleet: Fleet, user: User): Promise<boolean> {
  const res = await fleet.send(user, "/session-data", { headers: { accept: "application/json" } });
  if (!res) return false;
  assert.equal(res.status, 200);
  const body = await res.json() as { name: string | null; lastname: string | null };
  fleet.counts.reads++;
  if (body.name === null) {
    fleet.counts.emptyReads++;
    return false;
  }
  if (body.name !== user.name || body.lastname !== user.lastname) fleet.counts.wrongReads++;
  return true;
}

/** Visitors browsing until `stop()`: reads, and now and then a write. */
function traffic(fleet: Fleet, users: readonly User[]) {
  let stopped = false;
  let sent = 0;
  const workers = Array.from({ length: WORKERS }, async (_, w) => {
    for (let k = w; !stopped && fleet.counts.requests < MAX_REQUESTS; k += WORKERS) {
      const user = users[k % users.length]!;
      if (++sent % WRITE_EVERY === 0) await post(fleet, user);
      else await read(fleet, user);
    }
  });
  return {
    /** Waits until `count` more reads were answered (bounded in time and requests). */
    async reads(count: number): Promise<void> {
      const target = fleet.counts.reads + count;
      const deadline = Date.now() + 30_000;
      while (
        !stopped && fleet.counts.reads < target && Date.now() < deadline &&
        fleet.counts.requests < MAX_REQUESTS
      ) await sleep(10);
    },
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(workers);
    },
  };
}

/** Visitors who lost their session: no cookie left, or an empty session on any instance. */
async function loggedOut(fleet: Fleet, users: readonly User[]): Promise<string[]> {
  const lost: string[] = [];
  for (const user of users) {
    if (!user.jar.names.includes("sealed")) {
      lost.push(`${user.name} (cookie deleted)`);
      continue;
    }
    for (let i = 0; i < INSTANCES; i++) {
      const res = await fetch(`${fleet.url(i)}/session-data`, {
        headers: { accept: "application/json", cookie: user.jar.header },
      });
      const body = await res.json() as { name: string | null };
      if (body.name !== user.name) {
        lost.push(`${user.name} (instance ${i} read ${JSON.stringify(body.name)})`);
        break;
      }
    }
  }
  return lost;
}

/** Runs a rollout under traffic, with every process stopped at the end whatever happens. */
async function withFleet(
  label: string,
  rollout: (
    fleet: Fleet,
    users: readonly User[],
    flow: ReturnType<typeof traffic>,
  ) => Promise<void>,
): Promise<{ counts: Counts; lost: string[] }> {
  const fleet = new Fleet();
  const users = makeUsers();
  const started = Date.now();
  try {
    await fleet.start({ SESSION_SECRET: OLD });
    for (let i = 0; i < users.length; i += WORKERS) {
      await Promise.all(users.slice(i, i + WORKERS).map((user) => post(fleet, user)));
    }
    const flow = traffic(fleet, users);
    try {
      await flow.reads(READS_BETWEEN_RESTARTS);
      await rollout(fleet, users, flow);
      await flow.reads(READS_BETWEEN_RESTARTS);
    } finally {
      await flow.stop();
    }
    const lost = await loggedOut(fleet, users);
    const c = fleet.counts;
    console.log(
      `${label}: ${USERS} visitors, ${c.requests} requests (${c.reads} reads, ${c.writes} writes) ` +
        `in ${Date.now() - started} ms; empty-session reads ${c.emptyReads}, wrong reads ` +
        `${c.wrongReads}, retried attempts ${c.retries}, failed ${c.failed}; logged out ${lost.length}`,
    );
    return { counts: { ...c }, lost };
  } finally {
    await fleet.stop();
  }
}

async function rollingRestart(
  fleet: Fleet,
  flow: ReturnType<typeof traffic>,
  env: Env,
  how: "SIGTERM" | "SIGKILL" = "SIGTERM",
): Promise<void> {
  for (let i = 0; i < INSTANCES; i++) {
    const status = await fleet.restart(i, env, how);
    if (how === "SIGTERM") assert.equal(status.code, 0, "a drained instance exits 0");
    await flow.reads(READS_BETWEEN_RESTARTS);
  }
}

Deno.test("a fleet rotating its secret in two phases shows no visitor an empty session", async () => {
  const { counts, lost } = await withFleet("two-phase rotation", async (fleet, users, flow) => {
    // Phase 1: every instance accepts the new secret; none seals with it yet.
    await rollingRestart(fleet, flow, { SESSION_SECRET: OLD, SESSION_SECRET_NEXT: NEW });
    // Phase 2: the new secret seals; cookies under the old one are re-sealed when used.
    await rollingRestart(fleet, flow, { SESSION_SECRET: NEW, SESSION_SECRET_FALLBACKS: OLD });
    // Every visitor comes back once (in production: SESSION_MAX_AGE passes, and those who do
    // not come back expire), so no cookie under the old secret is left in use.
    await flow.stop();
    for (const user of users) await read(fleet, user);
    const resumed = traffic(fleet, users);
    try {
      // Phase 3: the old secret is removed.
      await rollingRestart(fleet, resumed, { SESSION_SECRET: NEW });
    } finally {
      await resumed.stop();
    }
  });
  assert.equal(counts.emptyReads, 0, "reads that saw an empty session");
  assert.equal(counts.wrongReads, 0, "reads that saw another session");
  assert.equal(counts.failed, 0, "requests no instance answered");
  assert.deepEqual(lost, [], "visitors logged out");
});

Deno.test("a fleet rotating in one step logs nobody out, though old instances show empty sessions meanwhile", async () => {
  const { counts, lost } = await withFleet("one-step rotation", async (fleet, _users, flow) => {
    // What the README once said: new secret and the old as fallback, instance by instance.
    await rollingRestart(fleet, flow, { SESSION_SECRET: NEW, SESSION_SECRET_FALLBACKS: OLD });
  });
  // While instances disagree, an old instance cannot open a cookie re-sealed by a new one:
  // the visitor sees an empty session there. This is why the README rotates in two phases.
  assert.ok(counts.emptyReads > 0, "the rollout window was exercised (old and new mixed)");
  assert.equal(counts.wrongReads, 0, "reads that saw another session");
  assert.equal(counts.failed, 0, "requests no instance answered");
  // But the cookie is never destroyed by such a read: once the rollout is done, nobody is out.
  assert.deepEqual(lost, [], "visitors logged out");
});

Deno.test("a fleet losing an instance to kill -9, then restarting it, logs nobody out", async () => {
  const { counts, lost } = await withFleet("kill -9 and restart", async (fleet, _users, flow) => {
    // The supervisor brings it back only after a while: traffic meets a dead instance first.
    const status = await fleet.restart(
      1,
      { SESSION_SECRET: OLD },
      "SIGKILL",
      () => flow.reads(USERS / 2),
    );
    assert.equal(status.signal, "SIGKILL");
    await flow.reads(READS_BETWEEN_RESTARTS);
  });
  assert.equal(counts.emptyReads, 0, "reads that saw an empty session");
  assert.equal(counts.wrongReads, 0, "reads that saw another session");
  assert.equal(counts.failed, 0, "requests no instance answered");
  assert.deepEqual(lost, [], "visitors logged out");
});
