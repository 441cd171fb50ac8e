/**
 * The Flask bridge writes and deletes the Flask cookie with Flask's own attributes (domain,
 * path, Secure, SameSite), and a destroyed session never comes back from a Flask cookie.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { session, SessionConfigError, type SessionEnv, type SessionOptions } from "../lib/mod.ts";
import {
  flaskMigration,
  type FlaskSessionOptions,
  flaskShared,
  sealFlaskCookie,
} from "../lib/flask/mod.ts";
import { ConfigError, loadConfig } from "../routes/config.ts";
import { serverSideOptions } from "../routes/server_side.ts";
import { kvRevocation } from "../lib/kv/mod.ts";
import { startServer } from "./_server.ts";

const SECRET = "flask bridge test secret, 32 bytes or more";
const FLASK_KEY = "the Flask app's secret key";

type BridgeOptions = Omit<FlaskSessionOptions, "secretKeys"> & { mode: "migrate" | "shared" };

function makeApp({ mode, ...flask }: BridgeOptions, options: Partial<SessionOptions> = {}) {
  const app = new Hono<SessionEnv<{ name: string }>>();
  const bridge = mode === "shared" ? flaskShared : flaskMigration;
  app.use(session<{ name: string }>({
    secrets: [SECRET],
    foreign: bridge({ secretKeys: [FLASK_KEY], ...flask }),
    ...options,
  }));
  app.get("/", (c) => c.text(c.get("session").get("name") ?? "nobody"));
  app.post("/name/:name", (c) => {
    c.get("session").set("name", c.req.param("name"));
    return c.text("ok");
  });
  app.post("/logout", (c) => {
    c.get("session").destroy();
    return c.body(null, 204);
  });
  return app;
}

async function flaskCookie(data: Record<string, unknown> = { name: "Ada" }): Promise<string> {
  return await sealFlaskCookie(data, { secretKeys: [FLASK_KEY] });
}

interface Stored {
  name: string;
  value: string;
  domain: string;
  path: string;
}

/**
 * A browser's jar for one host under `example.com`: cookies are told apart by name, domain
 * and path (a deletion must match all three), and sent oldest first, as browsers order cookies
 * of equal path length.
 */
class DomainJar {
  readonly cookies: Stored[] = [];
  constructor(readonly host: string) {}
  plant(cookie: Stored): void {
    this.cookies.push(cookie);
  }
  apply(res: Response): void {
    for (const header of res.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(";").map((p) => p.trim());
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      let domain = this.host;
      let path = "/";
      let expired = false;
      for (const attribute of attributes) {
        const [key, v = ""] = attribute.split("=");
        if (key!.toLowerCase() === "domain") domain = "." + v.replace(/^\./, "");
        if (key!.toLowerCase() === "path") path = v;
        if (key!.toLowerCase() === "max-age" && Number(v) <= 0) expired = true;
      }
      const i = this.cookies.findIndex((c) =>
        c.name === name && c.domain === domain && c.path === path
      );
      if (expired) {
        if (i >= 0) this.cookies.splice(i, 1);
      } else if (i >= 0) this.cookies[i]!.value = value;
      else this.cookies.push({ name, value, domain, path });
    }
  }
  header(): string {
    return this.cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  }
  async send(app: Hono<SessionEnv<{ name: string }>>, path: string, method = "GET") {
    const res = await app.request(`http://${this.host}${path}`, {
      method,
      headers: { cookie: this.header() },
    });
    this.apply(res);
    return res;
  }
}

function deletionOf(res: Response, name: string): string | undefined {
  return res.headers.getSetCookie().find((h) => h.startsWith(`${name}=;`) && /Max-Age=0/.test(h));
}

Deno.test("The Flask bridge deletes the Flask cookie with Flask's domain, path, Secure and SameSite", async () => {
  const app = makeApp({
    mode: "migrate",
    cookieName: "flask",
    domain: ".example.com",
    path: "/",
    secure: true,
    sameSite: "Strict",
  });
  const res = await app.request("http://app.example.com/", {
    headers: { cookie: `flask=${await flaskCookie()}` },
  });
  assert.equal(await res.text(), "Ada");
  const deletion = deletionOf(res, "flask");
  assert.ok(deletion, res.headers.getSetCookie().join("\n"));
  assert.match(deletion, /; Path=\/(;|$)/);
  assert.match(deletion, /; Domain=\.example\.com(;|$)/);
  assert.match(deletion, /; Secure(;|$)/);
  assert.match(deletion, /; SameSite=Strict(;|$)/);
});

Deno.test("The Flask bridge in shared mode writes the Flask cookie with Flask's attributes", async () => {
  const app = makeApp({
    mode: "shared",
    domain: "example.com",
    path: "/app",
    secure: true,
    sameSite: "None",
  });
  const res = await app.request("https://app.example.com/name/Grace", { method: "POST" });
  const [written] = res.headers.getSetCookie();
  assert.match(written!, /^session=[^;]*\.[^;]*;/);
  assert.match(written!, /; Path=\/app; Domain=example\.com; Secure; HttpOnly; SameSite=None/);
});

Deno.test("A logout holds for a visitor migrated from a domain-wide Flask cookie of the same name", async (t) => {
  // Flask ran with SESSION_COOKIE_DOMAIN=".example.com"; this service sets a host-only cookie
  // of the same name over plain HTTP, so the browser may hold (and send) both.
  const app = makeApp({ mode: "migrate", domain: ".example.com" });
  const jar = new DomainJar("app.example.com");
  jar.plant({ name: "session", value: await flaskCookie(), domain: ".example.com", path: "/" });

  await t.step("the first request migrates and deletes the Flask cookie", async () => {
    assert.equal(await (await jar.send(app, "/")).text(), "Ada");
    assert.deepEqual(jar.cookies.map((c) => c.domain), ["app.example.com"]);
    assert.equal(await (await jar.send(app, "/")).text(), "Ada");
  });
  await t.step("after logout the visitor stays logged out", async () => {
    assert.equal((await jar.send(app, "/logout", "POST")).status, 204);
    assert.deepEqual(jar.cookies, []);
    assert.equal(await (await jar.send(app, "/")).text(), "nobody");
  });
});

Deno.test("A destroyed session does not come back from a Flask cookie the request carried", async (t) => {
  const app = makeApp({ mode: "migrate", cookieName: "flask_session" });

  await t.step(
    "destroy() on the very request that would migrate deletes the Flask cookie",
    async () => {
      const jar = new DomainJar("localhost");
      jar.plant({
        name: "flask_session",
        value: await flaskCookie(),
        domain: "localhost",
        path: "/",
      });
      const res = await jar.send(app, "/logout", "POST");
      assert.ok(deletionOf(res, "flask_session"), res.headers.getSetCookie().join("\n"));
      assert.ok(!res.headers.getSetCookie().some((h) => /^sealed=[^;]/.test(h)), "no new session");
      assert.equal(await (await jar.send(app, "/")).text(), "nobody");
    },
  );

  await t.step(
    "destroy() with a sealed session and a leftover Flask cookie deletes both",
    async () => {
      const jar = new DomainJar("localhost");
      await jar.send(app, "/name/Grace", "POST");
      // A Flask cookie whose deletion was lost (or that Flask set again) sits next to it.
      jar.plant({
        name: "flask_session",
        value: await flaskCookie(),
        domain: "localhost",
        path: "/",
      });
      assert.equal(await (await jar.send(app, "/")).text(), "Grace", "the sealed session wins");
      jar.plant({
        name: "flask_session",
        value: await flaskCookie(),
        domain: "localhost",
        path: "/",
      });
      const res = await jar.send(app, "/logout", "POST");
      assert.ok(deletionOf(res, "sealed"));
      assert.ok(deletionOf(res, "flask_session"));
      assert.equal(await (await jar.send(app, "/")).text(), "nobody");
    },
  );
});

Deno.test("The Flask bridge refuses cookie attributes Flask would not write, naming the option", () => {
  const cases: Array<[Omit<FlaskSessionOptions, "secretKeys">, string]> = [
    [{ domain: "exa mple.com" }, "flask.domain"],
    [{ path: "app" }, "flask.path"],
    [{ sameSite: "None" }, "flask.sameSite"],
    [{ sameSite: "lax" as never }, "flask.sameSite"],
  ];
  for (const [options, option] of cases) {
    assert.throws(
      () => makeApp({ mode: "migrate", ...options }),
      (e: unknown) => e instanceof SessionConfigError && e.option === option,
    );
  }
});

Deno.test("loadConfig() reads Flask's cookie settings from FLASK_SESSION_COOKIE_* variables", async (t) => {
  const base = { SESSION_SECRET: SECRET, FLASK_SECRET_KEY: FLASK_KEY };
  await t.step("Flask's defaults when unset", () => {
    const { flask } = loadConfig(base);
    assert.deepEqual(
      {
        domain: flask?.domain,
        path: flask?.path,
        secure: flask?.secure,
        sameSite: flask?.sameSite,
      },
      { domain: undefined, path: "/", secure: false, sameSite: "Lax" },
    );
  });
  await t.step("each variable, passed on to the bridge", async () => {
    const config = loadConfig({
      ...base,
      FLASK_SESSION_COOKIE_DOMAIN: ".example.com",
      FLASK_SESSION_COOKIE_PATH: "/shop",
      FLASK_SESSION_COOKIE_SECURE: "true",
      FLASK_SESSION_COOKIE_SAMESITE: "strict",
    });
    const { session } = await serverSideOptions(config);
    // The bridge deletes the Flask cookie where Flask put it: with these very attributes.
    assert.equal(
      session.foreign?.clear(),
      "session=; Max-Age=0; Path=/shop; Domain=.example.com; Secure; HttpOnly; SameSite=Strict",
    );
  });
  await t.step("a bad value is an error naming the variable", async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ FLASK_SESSION_COOKIE_DOMAIN: "a b" }, "FLASK_SESSION_COOKIE_DOMAIN"],
      [{ FLASK_SESSION_COOKIE_PATH: "shop" }, "FLASK_SESSION_COOKIE_PATH"],
      [{ FLASK_SESSION_COOKIE_SECURE: "yes" }, "FLASK_SESSION_COOKIE_SECURE"],
      [{ FLASK_SESSION_COOKIE_SAMESITE: "sometimes" }, "FLASK_SESSION_COOKIE_SAMESITE"],
      [{ FLASK_SESSION_COOKIE_SAMESITE: "None" }, "FLASK_SESSION_COOKIE_SAMESITE"],
    ];
    // Parsed by loadConfig(), checked by the bridge as the service sets it up.
    for (const [env, variable] of cases) {
      await assert.rejects(
        async () => await serverSideOptions(loadConfig({ ...base, ...env })),
        (e: unknown) => e instanceof ConfigError && e.variable === variable,
        variable,
      );
    }
  });
});

Deno.test("The Flask bridge in shared mode leaves the Flask cookie alone next to leftover chunks", async () => {
  // The sealed cookie once had Flask's name: its chunks are left over next to Flask's cookie.
  const app = makeApp({ mode: "shared" }, { cookieName: "session" });
  const cookie = `session.0=leftover; session=${await flaskCookie({ name: "Grace" })}`;
  const res = await app.request("http://localhost/", { headers: { cookie } });
  assert.equal(await res.text(), "Grace");
  assert.equal(deletionOf(res, "session"), undefined, res.headers.getSetCookie().join("\n"));
});

Deno.test("The service deletes the Flask cookie with the FLASK_SESSION_COOKIE_* settings", async () => {
  const server = await startServer({
    env: {
      SESSION_SECRET: SECRET,
      FLASK_SECRET_KEY: FLASK_KEY,
      FLASK_SESSION_COOKIE_NAME: "flask",
      FLASK_SESSION_COOKIE_DOMAIN: ".example.com",
      FLASK_SESSION_COOKIE_PATH: "/",
      FLASK_SESSION_COOKIE_SECURE: "true",
      FLASK_SESSION_COOKIE_SAMESITE: "Strict",
    },
  });
  try {
    const res = await fetch(`${server.url}/session-data`, {
      headers: { accept: "application/json", cookie: `flask=${await flaskCookie()}` },
    });
    assert.deepEqual(await res.json(), { name: "Ada", lastname: null });
    const deletion = deletionOf(res, "flask");
    assert.ok(deletion, res.headers.getSetCookie().join("\n"));
    assert.match(deletion, /; Path=\/; Domain=\.example\.com; Secure; HttpOnly; SameSite=Strict/);
  } finally {
    await server.stop();
  }
});

Deno.test("A shared Flask session refuses the options it could not honour, at set-up", () => {
  const none = { isRevoked: () => Promise.resolve(false), revoke: () => Promise.resolve() };
  const cases: [string, Record<string, unknown>][] = [
    ["revocation", { revocation: none }],
    ["store", {
      store: {
        load: () => Promise.resolve(undefined),
        save: () => Promise.reject(new Error("unused")),
        delete: () => Promise.resolve(),
      },
    }],
    ["idleTimeout", { idleTimeout: 600 }],
  ];
  for (const [option, extra] of cases) {
    assert.throws(
      () =>
        session({ secrets: [SECRET], foreign: flaskShared({ secretKeys: [FLASK_KEY] }), ...extra }),
      (e: unknown) =>
        e instanceof SessionConfigError && e.option === option && /shared/.test(e.message),
      option,
    );
    // A migration seals its own session: each of them works there.
    session({ secrets: [SECRET], foreign: flaskMigration({ secretKeys: [FLASK_KEY] }), ...extra });
  }
});

Deno.test("With a revocation list, a Flask cookie migrates once: its copies and cookies older than the cut-off are refused", async (t) => {
  using kv = await Deno.openKv(":memory:");
  const revocation = kvRevocation(kv, { cacheMs: 0 });
  const invalid: string[] = [];
  const app = new Hono<SessionEnv<{ name: string }>>();
  app.use(session<{ name: string }>({
    secrets: [SECRET],
    revocation,
    foreign: flaskMigration({ secretKeys: [FLASK_KEY] }),
    onInvalid: (reason) => void invalid.push(reason),
  }));
  app.get("/", (c) => c.text(c.get("session").get("name") ?? "nobody"));
  app.post("/logout", (c) => {
    c.get("session").destroy();
    return c.body(null, 204);
  });
  const read = (cookie: string) => app.request("/", { headers: { cookie } });

  await t.step(
    "a copy of a migrated Flask cookie, replayed after logout, is refused",
    async () => {
      const copy = `session=${await flaskCookie({ name: "Ada" })}`;
      const first = await read(copy);
      assert.equal(await first.text(), "Ada", "migrated");
      const sealed = first.headers.getSetCookie().find((h) => !h.includes("Max-Age=0"))!;
      await app.request("/logout", {
        method: "POST",
        headers: { cookie: sealed.split(";")[0]! },
      });
      assert.equal(await (await read(copy)).text(), "nobody");
      assert.deepEqual(invalid, ["revoked"]);
    },
  );
  await t.step("a Flask cookie signed before revokeAllBefore() is refused", async () => {
    invalid.length = 0;
    const older = `session=${await flaskCookie({ name: "Grace" })}`;
    await revocation.revokeAllBefore(new Date());
    assert.equal(await (await read(older)).text(), "nobody");
    assert.deepEqual(invalid, ["revoked"]);
  });
});

/**
 * The other spellings of a Flask cookie: its signature (20 bytes, 27 characters) ends in a
 * character with two unused low bits, which Flask's decoder ignores, so each cookie has four.
 */
function respellings(cookie: string): string[] {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const last = alphabet.indexOf(cookie.at(-1)!);
  return [0, 1, 2, 3].filter((bits) => bits !== (last & 3))
    .map((bits) => cookie.slice(0, -1) + alphabet[(last & ~3) | bits]);
}

Deno.test("With a revocation list, a migrated Flask cookie is refused in every spelling, on every instance", async () => {
  using kv = await Deno.openKv(":memory:");
  const invalid: string[] = [];
  // Two instances of the service, sharing one revocation list.
  const [first, second] = [1, 2].map(() => {
    const app = new Hono<SessionEnv<{ name: string }>>();
    app.use(session<{ name: string }>({
      secrets: [SECRET],
      revocation: kvRevocation(kv),
      foreign: flaskMigration({ secretKeys: [FLASK_KEY] }),
      onInvalid: (reason) => void invalid.push(reason),
    }));
    app.get("/", (c) => c.text(c.get("session").get("name") ?? "nobody"));
    return app;
  });
  const cookie = await flaskCookie({ name: "Ada" });
  const migrated = await first!.request("/", { headers: { cookie: `session=${cookie}` } });
  assert.equal(await migrated.text(), "Ada");

  for (const spelling of respellings(cookie)) {
    for (const app of [first!, second!]) {
      // A captured copy, its signature's last character respelled:
      // Cookie: session=eyJuYW1lIjoiQWRhIn0.aBcDeF.…wgF
      const res = await app.request("/", { headers: { cookie: `session=${spelling}` } });
      assert.equal(await res.text(), "nobody", spelling);
      assert.ok(!res.headers.getSetCookie().some((h) => /^sealed=[^;]/.test(h)), "no session");
    }
  }
  assert.deepEqual(invalid, Array(6).fill("revoked"));
});

Deno.test("A Flask session too large to seal is refused, and the visitor can still use the site and log out", async (t) => {
  const invalid: string[] = [];
  const app = makeApp({ mode: "migrate", cookieName: "flask_session" }, {
    onInvalid: (reason) => void invalid.push(reason),
  });
  // A planted Flask cookie of a couple of hundred characters, compressed (the leading "."),
  // whose data is bigger than the sealed cookies may hold (maxCookieBytes, 6144 by default):
  // Cookie: flask_session=.eJzty…
  const planted = await flaskCookie({ name: "x".repeat(10_000) });
  assert.match(planted, /^\./);
  assert.ok(planted.length < 300, `${planted.length} characters`);
  const cookie = `flask_session=${planted}`;

  await t.step("a page answers with an empty session and expires the Flask cookie", async () => {
    const res = await app.request("/", { headers: { cookie } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "nobody");
    assert.ok(deletionOf(res, "flask_session"), res.headers.getSetCookie().join("\n"));
    assert.deepEqual(invalid, ["malformed"]);
  });
  await t.step("a new session can be started next to it", async () => {
    const res = await app.request("/name/Grace", { method: "POST", headers: { cookie } });
    assert.equal(res.status, 200);
    assert.ok(deletionOf(res, "flask_session"), res.headers.getSetCookie().join("\n"));
    const sealed = res.headers.getSetCookie().find((h) => /^sealed=[^;]/.test(h))!;
    const again = await app.request("/", { headers: { cookie: sealed.split(";")[0]! } });
    assert.equal(await again.text(), "Grace");
  });
  await t.step("a logout works and expires the Flask cookie", async () => {
    const res = await app.request("/logout", { method: "POST", headers: { cookie } });
    assert.equal(res.status, 204);
    assert.ok(deletionOf(res, "flask_session"), res.headers.getSetCookie().join("\n"));
  });
});

Deno.test("A shared Flask session bigger than the sealed cookies allow is read, written and logged out of", async () => {
  // Shared mode seals nothing: the Flask cookie is read as it is and written back compressed.
  const app = makeApp({ mode: "shared" });
  const cookie = `session=${await flaskCookie({ name: "Ada", notes: "x".repeat(10_000) })}`;
  const read = await app.request("/", { headers: { cookie } });
  assert.equal(await read.text(), "Ada");
  const written = await app.request("/name/Grace", { method: "POST", headers: { cookie } });
  assert.equal(written.status, 200);
  assert.match(written.headers.getSetCookie()[0]!, /^session=\./);
  const logout = await app.request("/logout", { method: "POST", headers: { cookie } });
  assert.equal(logout.status, 204);
  assert.ok(deletionOf(logout, "session"), logout.headers.getSetCookie().join("\n"));
});
