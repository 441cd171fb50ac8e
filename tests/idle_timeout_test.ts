/**
 * The idle timeout holds for every cookie, whatever deadline it was sealed with: counted from
 * when it was last sealed (a time inside the seal), so a copy of an old cookie cannot outlive
 * it; a cookie sealed before that time was recorded is held to it from its issue.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { type InvalidReason, session, type SessionEnv } from "../lib/mod.ts";
import { ConfigError, loadConfig } from "../routes/config.ts";
import { serverSideOptions } from "../routes/server_side.ts";
import fixture from "./fixtures/seal_v1_cookies.json" with { type: "json" };

const SECRET = "idle timeout test secret, 32 bytes or more";
const T0 = 1_700_000_000_000;
const SECOND = 1000;
const HOUR = 3600;

function app(clock: { now: number }, idleTimeout?: number, invalid: InvalidReason[] = []) {
  const app = new Hono<SessionEnv>();
  app.use(session({
    secrets: [SECRET],
    now: () => clock.now,
    onInvalid: (reason) => void invalid.push(reason),
    ...(idleTimeout === undefined ? {} : { idleTimeout }),
  }));
  app.post("/login", (c) => {
    c.get("session").set("name", "Ada");
    return c.text("ok");
  });
  app.post("/rename/:name", (c) => {
    c.get("session").set("name", c.req.param("name"));
    return c.text("ok");
  });
  app.get("/", (c) => c.text(c.get("session").get("name") as string | undefined ?? "nobody"));
  return app;
}

function cookieOf(res: Response): { pair: string; maxAge: number } {
  const [header] = res.headers.getSetCookie();
  assert.ok(header, "a Set-Cookie header");
  return { pair: header.split(";")[0]!, maxAge: Number(/Max-Age=(\d+)/.exec(header)![1]) };
}

Deno.test("idleTimeout turned on holds for sessions sealed without one, counted from their last seal", async (t) => {
  const clock = { now: T0 };
  // Issued while no idle timeout was configured: valid for the whole 14 days.
  const before = cookieOf(await app(clock).request("/login", { method: "POST" }));
  assert.equal(before.maxAge, 14 * 24 * HOUR);

  // Half an hour later, the service is redeployed with a one-hour idle timeout.
  clock.now = T0 + 1800 * SECOND;
  const invalid: InvalidReason[] = [];
  const idle = app(clock, HOUR, invalid);
  let resealed = "";

  await t.step("its next use is accepted and re-seals it with the idle deadline", async () => {
    const res = await idle.request("/", { headers: { cookie: before.pair } });
    assert.equal(await res.text(), "Ada");
    const cookie = cookieOf(res);
    assert.equal(cookie.maxAge, HOUR);
    assert.notEqual(cookie.pair, before.pair);
    resealed = cookie.pair;
  });

  await t.step("the re-sealed cookie is refused once idle past the deadline", async () => {
    clock.now += (HOUR - 1) * SECOND;
    assert.equal(await (await idle.request("/", { headers: { cookie: resealed } })).text(), "Ada");
    clock.now += HOUR * SECOND;
    const res = await idle.request("/", { headers: { cookie: resealed } });
    assert.equal(await res.text(), "nobody");
    assert.deepEqual(invalid, ["expired"]);
  });

  await t.step(
    "a copy of the cookie as first sealed, replayed ten idle days on, is refused",
    async () => {
      invalid.length = 0;
      clock.now = T0 + 10 * 24 * HOUR * SECOND;
      const res = await idle.request("/", { headers: { cookie: before.pair } });
      assert.equal(await res.text(), "nobody");
      assert.deepEqual(invalid, ["expired"]);
    },
  );

  await t.step("so is one sealed under a longer idle timeout than today's", async () => {
    invalid.length = 0;
    clock.now = T0;
    const long = cookieOf(await app(clock, 24 * HOUR).request("/login", { method: "POST" }));
    clock.now = T0 + 2 * HOUR * SECOND;
    const res = await idle.request("/", { headers: { cookie: long.pair } });
    assert.equal(await res.text(), "nobody");
    assert.deepEqual(invalid, ["expired"]);
  });
});

Deno.test("idleTimeout holds a cookie sealed before the sealing time was recorded to its issue", async (t) => {
  for (const sealed of fixture.cookies) {
    await t.step(sealed.description, async () => {
      const clock = { now: (sealed.issuedAt + 600) * SECOND };
      // Sealed under the cookie name of its time, which an upgraded app keeps.
      const cookie = `session=${sealed.value}`;
      const read = (idleTimeout: number) =>
        session({
          secrets: [fixture.secret],
          cookieName: "session",
          now: () => clock.now,
          idleTimeout,
        });
      const hono = (idleTimeout: number) => {
        const h = new Hono<SessionEnv>();
        h.use(read(idleTimeout));
        h.get("/", (c) => c.text(String(c.get("session").get("name") ?? "nobody")));
        return h;
      };
      // Its last use is unknown: an idle timeout longer than its age lets it in…
      assert.equal(
        await (await hono(HOUR).request("/", { headers: { cookie } })).text(),
        sealed.data.name,
      );
      // …one shorter than its age does not (it may have lain unused all that time).
      assert.equal(await (await hono(300).request("/", { headers: { cookie } })).text(), "nobody");
    });
  }
});

Deno.test("idleTimeout leaves a session alone whose absolute expiry comes before an idle deadline would", async () => {
  const clock = { now: T0 };
  const cookie = cookieOf(await app(clock).request("/login", { method: "POST" }));
  // In use until ten minutes before: re-sealed then, still without an idle timeout.
  clock.now = T0 + (14 * 24 * HOUR - 2400) * SECOND;
  const used = cookieOf(
    await app(clock).request("/rename/Bea", { method: "POST", headers: { cookie: cookie.pair } }),
  );
  // Half an hour before the absolute expiry: an hour's idle deadline could never apply.
  clock.now = T0 + (14 * 24 * HOUR - 1800) * SECOND;
  const res = await app(clock, HOUR).request("/", { headers: { cookie: used.pair } });
  assert.equal(await res.text(), "Bea");
  assert.deepEqual(res.headers.getSetCookie(), []);
});

Deno.test("loadConfig() reads SESSION_IDLE_TIMEOUT in seconds and passes it to the session", async (t) => {
  await t.step("unset: no idle timeout", async () => {
    const config = loadConfig({ SESSION_SECRET: SECRET });
    assert.equal(config.idleTimeout, undefined);
    assert.equal((await serverSideOptions(config)).session.idleTimeout, undefined);
  });
  await t.step("a whole number of seconds", async () => {
    const config = loadConfig({ SESSION_SECRET: SECRET, SESSION_IDLE_TIMEOUT: "1800" });
    assert.equal(config.idleTimeout, 1800);
    assert.equal((await serverSideOptions(config)).session.idleTimeout, 1800);
  });
  await t.step("anything else is an error naming the variable", () => {
    for (const bad of ["0", "-5", "1h", "1.5"]) {
      assert.throws(
        () => loadConfig({ SESSION_SECRET: SECRET, SESSION_IDLE_TIMEOUT: bad }),
        (e: unknown) =>
          e instanceof ConfigError && e.variable === "SESSION_IDLE_TIMEOUT" &&
          e.message.includes(`"${bad}"`),
      );
    }
  });
});

async function sealedWith(idleTimeout: number | undefined, clock: { now: number }) {
  return cookieOf(await app(clock, idleTimeout).request("/login", { method: "POST" }));
}

Deno.test("idleTimeout shortened applies to sessions sealed under the longer one", async () => {
  const clock = { now: T0 };
  const issued = await sealedWith(24 * HOUR, clock);
  assert.equal(issued.maxAge, 24 * HOUR);
  const invalid: InvalidReason[] = [];
  const shorter = app(clock, HOUR, invalid);
  clock.now += 60 * SECOND;
  const res = await shorter.request("/", { headers: { cookie: issued.pair } });
  assert.equal(await res.text(), "Ada");
  const resealed = cookieOf(res);
  assert.equal(resealed.maxAge, HOUR);
  clock.now += (HOUR + 1) * SECOND;
  assert.equal(
    await (await shorter.request("/", { headers: { cookie: resealed.pair } })).text(),
    "nobody",
  );
  assert.deepEqual(invalid, ["expired"]);
});

Deno.test("idleTimeout turned off drops the idle deadline of sessions on their next use", async () => {
  const clock = { now: T0 };
  const issued = await sealedWith(HOUR, clock);
  const none = app(clock);
  clock.now += 60 * SECOND;
  const res = await none.request("/", { headers: { cookie: issued.pair } });
  assert.equal(await res.text(), "Ada");
  const resealed = cookieOf(res);
  assert.equal(resealed.maxAge, 14 * 24 * HOUR - 60);
  clock.now += 2 * HOUR * SECOND;
  const later = await none.request("/", { headers: { cookie: resealed.pair } });
  assert.equal(await later.text(), "Ada");
  assert.deepEqual(later.headers.getSetCookie(), [], "no further writes");
});

Deno.test("idleTimeout does not re-seal a cookie whose deadline is ahead only by clock skew", async () => {
  const clock = { now: T0 };
  const issued = await sealedWith(HOUR, clock);
  // This instance's clock runs 30 s behind the one that sealed it.
  clock.now -= 30 * SECOND;
  const res = await app(clock, HOUR).request("/", { headers: { cookie: issued.pair } });
  assert.equal(await res.text(), "Ada");
  assert.deepEqual(res.headers.getSetCookie(), []);
});
