/**
 * Instances that disagree about secrets, through `app.request()`: a cookie an instance cannot
 * read is not destroyed by a read there, and the `nextSecrets` option (`SESSION_SECRET_NEXT`)
 * makes phase 1 of a rotation. The same on real processes: tests/fleet_test.ts.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  type InvalidReason,
  session,
  SessionConfigError,
  type SessionEnv,
  type SessionRevocation,
} from "../lib/mod.ts";
import { type AppOptions, buildApp, createApp, loadConfig } from "../main.ts";
import { ConfigError } from "../routes/config.ts";
import { cookieOf } from "./_cookie_jar.ts";
import { runMain } from "./_server.ts";

const OLD = "the old secret of at least thirty-two bytes";
const NEW = "the new secret of at least thirty-two bytes";
const FORM = { name: "Ada", lastname: "Lovelace" };
const JSON_ACCEPT = { accept: "application/json" };

type App = ReturnType<typeof createApp>;

/** One instance of the greeting service, with what its `onInvalid` hook heard. */
function instance(options: AppOptions & { now?: () => number; revocation?: SessionRevocation }) {
  const invalid: InvalidReason[] = [];
  const { now, revocation, ...rest } = options;
  const app = createApp({
    ...rest,
    session: {
      onInvalid: (reason) => invalid.push(reason),
      ...(now ? { now } : {}),
      ...(revocation ? { revocation } : {}),
    },
  });
  return { app, invalid };
}

async function login(app: App, cookie = "", form = FORM): Promise<Response> {
  return await app.request("/greeting", {
    method: "POST",
    headers: { accept: "text/plain", ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(form),
  });
}

async function read(app: App, cookie: string): Promise<Response> {
  return await app.request("/session-data", { headers: { ...JSON_ACCEPT, cookie } });
}

async function nameOn(app: App, cookie: string): Promise<string | null> {
  const body = await (await read(app, cookie)).json() as { name: string | null };
  return body.name;
}

Deno.test("an instance without the sealing secret does not destroy the cookie on a read", async (t) => {
  // The rollout of a one-step rotation: A already has [new, old], B still only [old].
  const a = instance({ secrets: [NEW, OLD] });
  const b = instance({ secrets: [OLD] });
  const cookie = cookieOf(await login(a.app));

  await t.step("B answers a read with an empty session and no Set-Cookie", async () => {
    const res = await read(b.app, cookie);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { name: null, lastname: null });
    assert.deepEqual(res.headers.getSetCookie(), []);
  });
  await t.step("B's onInvalid still hears unknown-key", () => {
    assert.deepEqual(b.invalid, ["unknown-key"]);
  });
  await t.step("so the cookie still opens on A afterwards", async () => {
    assert.equal(await nameOn(a.app, cookie), "Ada");
  });
  await t.step("a session in several cookies (chunks) is kept whole as well", async () => {
    const chunked = (secrets: string[]) => {
      const app = new Hono<SessionEnv<{ big: string }>>();
      app.use(session<{ big: string }>({ secrets, maxCookieBytes: 16_384 }));
      app.post("/", (c) => (c.get("session").set("big", "x".repeat(10_000)), c.text("ok")));
      app.get("/", (c) => c.text(String(c.get("session").get("big")?.length ?? 0)));
      return app;
    };
    const res = await chunked([NEW, OLD]).request("/", { method: "POST" });
    const chunks = cookieOf(res);
    assert.match(chunks, /sealed\.0=.*sealed\.1=/);
    const there = await chunked([OLD]).request("/", { headers: { cookie: chunks } });
    assert.equal(await there.text(), "0");
    assert.deepEqual(there.headers.getSetCookie(), []);
    const back = await chunked([NEW]).request("/", { headers: { cookie: chunks } });
    assert.equal(await back.text(), "10000");
  });
  await t.step("a write on B replaces it with a cookie sealed under B's secret", async () => {
    const res = await login(b.app, cookie, { name: "Grace", lastname: "Hopper" });
    const replaced = cookieOf(res);
    assert.match(replaced, /^sealed=[A-Za-z0-9_-]+$/);
    assert.notEqual(replaced, cookie);
    assert.equal(await nameOn(b.app, replaced), "Grace");
    assert.equal(await nameOn(a.app, replaced), "Grace");
  });
  await t.step("a logout on B deletes it: the visitor asked for it", async () => {
    const res = await b.app.request("/logout", { method: "POST", headers: { cookie } });
    assert.equal(res.status, 204);
    assert.match(res.headers.getSetCookie()[0] ?? "", /^sealed=; Max-Age=0/);
  });
});

Deno.test("a read deletes only a refused cookie the library can show it wrote (expired, revoked)", async (t) => {
  let clock = Date.UTC(2026, 0, 1);
  const revoked = new Set<string>();
  const revocation: SessionRevocation = {
    isRevoked: (id) => Promise.resolve(revoked.has(id.join())),
    revoke: (id) => Promise.resolve(void revoked.add(id.join())),
  };
  const { app, invalid } = instance({
    secrets: [OLD],
    maxAge: 3600,
    now: () => clock,
    revocation,
  });
  const cookie = cookieOf(await login(app));
  const value = cookie.slice("sealed=".length);
  const flipped = value.slice(0, -2) + (value.at(-2) === "A" ? "B" : "A") + value.at(-1);

  const cases: [InvalidReason, () => Promise<string>][] = [
    ["malformed", () => Promise.resolve("sealed=not-a-sealed-value")],
    ["forged", () => Promise.resolve(`sealed=${flipped}`)],
    ["expired", () => {
      clock += 3600_000;
      return Promise.resolve(cookie);
    }],
    ["revoked", async () => {
      clock = Date.UTC(2026, 0, 1);
      const fresh = cookieOf(await login(app));
      await app.request("/logout", { method: "POST", headers: { cookie: fresh } });
      return fresh;
    }],
  ];
  for (const [reason, make] of cases) {
    // Garbage or a forgery may be another app's cookie of the same name (cookies ignore ports):
    // only a write replaces it.
    const deleted = reason === "expired" || reason === "revoked";
    await t.step(
      `${reason}: an empty session, and the cookie ${deleted ? "deleted" : "kept"}`,
      async () => {
        invalid.length = 0;
        const res = await read(app, await make());
        assert.deepEqual(await res.json(), { name: null, lastname: null });
        if (deleted) assert.match(res.headers.getSetCookie()[0] ?? "", /^sealed=; Max-Age=0/);
        else assert.deepEqual(res.headers.getSetCookie(), []);
        assert.deepEqual(invalid, [reason]);
      },
    );
  }
});

Deno.test("an instance with a shorter maxAge does not destroy a cookie issued under a longer one", async () => {
  const start = Date.UTC(2026, 0, 1);
  let clock = start;
  const long = instance({ secrets: [OLD], maxAge: 1000, now: () => clock });
  const short = instance({ secrets: [OLD], maxAge: 100, now: () => clock });
  const cookie = cookieOf(await login(long.app));
  clock = start + 200_000;
  const res = await read(short.app, cookie);
  assert.deepEqual(await res.json(), { name: null, lastname: null });
  assert.deepEqual(res.headers.getSetCookie(), []);
  assert.deepEqual(short.invalid, ["expired"]);
  assert.equal(await nameOn(long.app, cookie), "Ada");
});

Deno.test("nextSecrets: phase 1 of a rotation accepts the new secret but seals with the current one", async (t) => {
  const before = instance({ secrets: [OLD] });
  const phase1 = instance({ secrets: [OLD], nextSecrets: [NEW] });
  const phase2 = instance({ secrets: [NEW, OLD] });
  const after = instance({ secrets: [NEW] });

  await t.step("phase 1 seals with the current secret", async () => {
    const cookie = cookieOf(await login(phase1.app));
    assert.equal(await nameOn(before.app, cookie), "Ada");
    assert.equal(await nameOn(after.app, cookie), null);
  });
  await t.step("phase 1 reads a cookie sealed by phase 2, and does not re-seal it", async () => {
    const cookie = cookieOf(await login(phase2.app));
    const res = await read(phase1.app, cookie);
    assert.deepEqual(await res.json(), { name: "Ada", lastname: "Lovelace" });
    assert.deepEqual(res.headers.getSetCookie(), []);
    assert.deepEqual(phase1.invalid, []);
  });
  await t.step("phase 2 re-seals a phase 1 cookie with the new secret", async () => {
    const cookie = cookieOf(await login(phase1.app));
    const res = await read(phase2.app, cookie);
    const resealed = cookieOf(res);
    assert.notEqual(resealed, "");
    assert.equal(await nameOn(after.app, resealed), "Ada");
  });
  await t.step("reads alternating between the phases rewrite nothing", async () => {
    const cookie = cookieOf(await login(phase2.app));
    for (const app of [phase1.app, phase2.app, phase1.app, phase2.app]) {
      const res = await read(app, cookie);
      assert.deepEqual(res.headers.getSetCookie(), []);
      assert.equal((await res.json() as { name: string }).name, "Ada");
    }
  });
  await t.step(
    "a write on phase 1 seals with the current secret, which phase 2 still reads",
    async () => {
      const cookie = cookieOf(await login(phase2.app));
      const rewritten = cookieOf(
        await login(phase1.app, cookie, { name: "Grace", lastname: "H" }),
      );
      assert.equal(await nameOn(before.app, rewritten), "Grace");
      assert.equal(await nameOn(phase2.app, rewritten), "Grace");
    },
  );
});

Deno.test("session() refuses nextSecrets that are short, repeated or not a list, naming the option", () => {
  const cases: [unknown, string][] = [
    [["too short"], "nextSecrets[0]"],
    [[NEW, "short"], "nextSecrets[1]"],
    [[OLD], "nextSecrets[0]"],
    [[NEW, NEW], "nextSecrets[1]"],
    [NEW, "nextSecrets"],
  ];
  for (const [nextSecrets, option] of cases) {
    assert.throws(
      () => session({ secrets: [OLD], nextSecrets: nextSecrets as string[] }),
      (e: unknown) => e instanceof SessionConfigError && e.option === option,
      `nextSecrets: ${JSON.stringify(nextSecrets)}`,
    );
  }
  session({ secrets: [OLD], nextSecrets: [] });
  session({ secrets: [OLD], nextSecrets: [NEW] });
});

Deno.test("loadConfig() reads SESSION_SECRET_NEXT as the phase 1 secret", async (t) => {
  await t.step("set, it is accepted and not sealing", () => {
    const config = loadConfig({ SESSION_SECRET: OLD, SESSION_SECRET_NEXT: NEW });
    assert.deepEqual(config.secrets, [OLD]);
    assert.deepEqual(config.nextSecrets, [NEW]);
  });
  await t.step("unset or blank, there is none", () => {
    assert.deepEqual(loadConfig({ SESSION_SECRET: OLD }).nextSecrets, []);
    assert.deepEqual(loadConfig({ SESSION_SECRET: OLD, SESSION_SECRET_NEXT: " " }).nextSecrets, []);
  });
  const refused: [string, Record<string, string>, RegExp][] = [
    ["shorter than 32 bytes", { SESSION_SECRET_NEXT: "short" }, /at least 32 bytes/],
    ["the sealing secret", { SESSION_SECRET_NEXT: OLD }, /same secret as SESSION_SECRET\b/],
    [
      "a fallback",
      { SESSION_SECRET: NEW, SESSION_SECRET_FALLBACKS: OLD, SESSION_SECRET_NEXT: OLD },
      /same secret as SESSION_SECRET_FALLBACKS/,
    ],
  ];
  for (const [label, env, message] of refused) {
    await t.step(`${label}, it is refused naming SESSION_SECRET_NEXT`, () => {
      // loadConfig() parses; the session library checks the secret itself (buildApp()).
      assert.throws(
        () => buildApp(loadConfig({ SESSION_SECRET: OLD, ...env })),
        (e: unknown) =>
          e instanceof ConfigError && e.variable === "SESSION_SECRET_NEXT" &&
          message.test(e.message),
      );
    });
  }
});

Deno.test("deno task start refuses a bad SESSION_SECRET_NEXT with a message naming it", async () => {
  const run = await runMain({ env: { SESSION_SECRET: OLD, SESSION_SECRET_NEXT: OLD } });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /SESSION_SECRET_NEXT is the same secret as SESSION_SECRET\b/);
  assert.match(run.stderr, /unset SESSION_SECRET_NEXT/);
});
