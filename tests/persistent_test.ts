/**
 * Browser-session and persistent cookies: the `persistent` option, `session.persistent`, the
 * flags byte that seals the choice, and its mapping to Flask's `_permanent`.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { session, SessionConfigError, type SessionEnv, type SessionOptions } from "../lib/mod.ts";
import {
  flaskMigration,
  flaskShared,
  sealFlaskCookie,
  unsealFlaskCookie,
} from "../lib/flask/mod.ts";
import { kvStore } from "../lib/kv/mod.ts";
import { xaes256gcm } from "../lib/cipher/mod.ts";
import { decodeBase64Url, encodeBase64Url } from "../lib/sealing/base64url.ts";
import fixture from "./fixtures/seal_v1_cookies.json" with { type: "json" };

const SECRET = "persistence test secret, thirty-two bytes or more";
const NEXT = "the next secret, for rotation, also 32+ bytes long";
const FLASK_KEY = "tutorial-secret-key";
/** A whole second, so that the library's second-granular times line up with the clock. */
const T0 = 1_800_000_000_000;
const MAX_AGE = 14 * 24 * 60 * 60;

/** One `Set-Cookie` header, split into its pair and attributes. */
interface SetCookie {
  name: string;
  value: string;
  /** Attribute names, lower case, to their values (`""` for flags). */
  attributes: Map<string, string>;
}

function setCookies(res: Response): SetCookie[] {
  return res.headers.getSetCookie().map((raw) => {
    const [pair, ...rest] = raw.split(";");
    const eq = pair!.indexOf("=");
    const attributes = new Map<string, string>();
    for (const part of rest) {
      const eqAt = part.indexOf("=");
      if (eqAt < 0) attributes.set(part.trim().toLowerCase(), "");
      else attributes.set(part.slice(0, eqAt).trim().toLowerCase(), part.slice(eqAt + 1).trim());
    }
    return { name: pair!.slice(0, eq).trim(), value: pair!.slice(eq + 1).trim(), attributes };
  });
}

/** The one session cookie a response sets. */
function sessionCookie(res: Response, name = "sealed"): SetCookie {
  const found = setCookies(res).filter((c) => c.name === name);
  assert.equal(found.length, 1, `one ${name} cookie in ${res.headers.getSetCookie()}`);
  return found[0]!;
}

/** True when a cookie is kept across browser restarts (it has Max-Age or Expires). */
function isPersistent(cookie: SetCookie): boolean {
  return cookie.attributes.has("max-age") || cookie.attributes.has("expires");
}

type Data = { name: string; n: number };

/** An app whose routes set data and persistence; `clock.now` drives its time (ms). */
function makeApp(options: Partial<SessionOptions> = {}) {
  const clock = { now: T0 };
  const errors: unknown[] = [];
  const app = new Hono<SessionEnv<Data>>();
  app.onError((error, c) => {
    errors.push(error);
    return c.text(String(error), 500);
  });
  app.use(session<Data>({ secrets: [SECRET], now: () => clock.now, ...options }));
  app.post("/set/:name", (c) => {
    const s = c.get("session");
    s.set("name", c.req.param("name"));
    const remember = c.req.query("remember");
    if (remember !== undefined) s.persistent = remember === "true";
    return c.text("ok");
  });
  app.post("/remember/:choice", (c) => {
    c.get("session").persistent = c.req.param("choice") === "true";
    return c.text("ok");
  });
  app.post("/remember-raw", async (c) => {
    // A JavaScript caller that bypasses the types.
    (c.get("session") as unknown as { persistent: unknown }).persistent = await c.req.text();
    return c.text("ok");
  });
  app.post("/regenerate", (c) => {
    c.get("session").regenerate();
    return c.text("ok");
  });
  app.post("/destroy-and-set", (c) => {
    const s = c.get("session");
    s.destroy();
    s.set("name", "after");
    return c.text("ok");
  });
  app.post("/logout", (c) => {
    c.get("session").destroy();
    return c.text("ok");
  });
  app.get("/", (c) => {
    const s = c.get("session");
    return c.json({ name: s.get("name") ?? null, persistent: s.persistent, isNew: s.isNew });
  });
  return { app, clock, errors };
}

type App = ReturnType<typeof makeApp>["app"];

async function post(app: App, path: string, cookie?: string): Promise<Response> {
  return await app.request(path, { method: "POST", headers: cookie ? { cookie } : {} });
}

async function read(
  app: App,
  cookie: string,
): Promise<{ name: string | null; persistent: boolean; isNew: boolean }> {
  const res = await app.request("/", { headers: { cookie } });
  assert.equal(res.status, 200);
  return await res.json();
}

function pair(cookie: SetCookie): string {
  return `${cookie.name}=${cookie.value}`;
}

Deno.test("session() writes Max-Age by default, as before the option existed", async () => {
  const { app } = makeApp();
  const cookie = sessionCookie(await post(app, "/set/Ada"));
  assert.equal(cookie.attributes.get("max-age"), String(MAX_AGE));
  assert.equal((await read(app, pair(cookie))).persistent, true);
});

Deno.test("session() with persistent: false writes a cookie without Max-Age or Expires", async () => {
  const { app } = makeApp({ persistent: false });
  const cookie = sessionCookie(await post(app, "/set/Ada"));
  assert.equal(isPersistent(cookie), false);
  assert.deepEqual([...cookie.attributes.keys()], ["path", "httponly", "samesite"]);
  assert.deepEqual(await read(app, pair(cookie)), { name: "Ada", persistent: false, isNew: false });
});

Deno.test("session.persistent set in a handler overrides the default for that session", async (t) => {
  await t.step("true on a browser-session app gives Max-Age", async () => {
    const { app } = makeApp({ persistent: false });
    const cookie = sessionCookie(await post(app, "/set/Ada?remember=true"));
    assert.equal(cookie.attributes.get("max-age"), String(MAX_AGE));
    assert.equal((await read(app, pair(cookie))).persistent, true);
  });
  await t.step("false on a persistent app gives a browser-session cookie", async () => {
    const { app } = makeApp();
    const cookie = sessionCookie(await post(app, "/set/Ada?remember=false"));
    assert.equal(isPersistent(cookie), false);
    assert.equal((await read(app, pair(cookie))).persistent, false);
  });
  await t.step("other visitors keep the default", async () => {
    const { app } = makeApp({ persistent: false });
    await post(app, "/set/Ada?remember=true");
    assert.equal(isPersistent(sessionCookie(await post(app, "/set/Grace"))), false);
  });
});

Deno.test("session.persistent refuses anything but a boolean, through app.onError", async () => {
  const { app, errors } = makeApp();
  const res = await app.request("/remember-raw", { method: "POST", body: "yes" });
  assert.equal(res.status, 500);
  assert.ok(errors[0] instanceof TypeError);
  assert.match(String(errors[0]), /session\.persistent: expected true or false, received "yes"/);
  assert.deepEqual(res.headers.getSetCookie(), []);
});

Deno.test("session() refuses a persistent option that is not a boolean, naming it", () => {
  assert.throws(
    () => session({ secrets: [SECRET], persistent: "no" as unknown as boolean }),
    (error) => error instanceof SessionConfigError && /persistent/.test(error.message),
  );
});

Deno.test("changing only the persistence re-writes the cookie; keeping it writes nothing", async () => {
  const { app } = makeApp({ persistent: false });
  const first = sessionCookie(await post(app, "/set/Ada"));
  const same = await post(app, "/remember/false", pair(first));
  assert.deepEqual(same.headers.getSetCookie(), [], "same choice, same data: no write");

  const remembered = sessionCookie(await post(app, "/remember/true", pair(first)));
  assert.equal(remembered.attributes.get("max-age"), String(MAX_AGE));
  assert.deepEqual(await read(app, pair(remembered)), {
    name: "Ada",
    persistent: true,
    isNew: false,
  });

  const forgotten = sessionCookie(await post(app, "/remember/false", pair(remembered)));
  assert.equal(isPersistent(forgotten), false);
  assert.equal((await read(app, pair(forgotten))).persistent, false);
});

Deno.test("the choice survives every re-seal", async (t) => {
  for (const persistent of [true, false]) {
    const kind = persistent ? "a persistent" : "a browser-session";
    await t.step(`${kind} session stays so when its data changes`, async () => {
      const { app } = makeApp({ persistent: !persistent });
      const first = sessionCookie(await post(app, `/set/Ada?remember=${persistent}`));
      const changed = sessionCookie(await post(app, "/set/Grace", pair(first)));
      assert.equal(isPersistent(changed), persistent);
      assert.deepEqual(await read(app, pair(changed)), {
        name: "Grace",
        persistent,
        isNew: false,
      });
    });

    await t.step(`${kind} session stays so when re-sealed under a new secret`, async () => {
      const { app: before } = makeApp({ persistent: !persistent });
      const first = sessionCookie(await post(before, `/set/Ada?remember=${persistent}`));
      const { app: rotated } = makeApp({ persistent: !persistent, secrets: [NEXT, SECRET] });
      const res = await rotated.request("/", { headers: { cookie: pair(first) } });
      const resealed = sessionCookie(res);
      assert.notEqual(resealed.value, first.value);
      assert.equal(isPersistent(resealed), persistent);
      assert.equal((await read(rotated, pair(resealed))).persistent, persistent);
    });

    await t.step(`${kind} session stays so when its idle deadline moves`, async () => {
      const { app, clock } = makeApp({ persistent: !persistent, idleTimeout: 600 });
      const first = sessionCookie(await post(app, `/set/Ada?remember=${persistent}`));
      assert.equal(first.attributes.get("max-age"), persistent ? "600" : undefined);
      clock.now += 400_000;
      const res = await app.request("/", { headers: { cookie: pair(first) } });
      const refreshed = sessionCookie(res);
      assert.equal(refreshed.attributes.get("max-age"), persistent ? "600" : undefined);
      assert.equal(isPersistent(refreshed), persistent);
    });

    await t.step(`${kind} session stays so through regenerate()`, async () => {
      const { app } = makeApp({ persistent: !persistent });
      const first = sessionCookie(await post(app, `/set/Ada?remember=${persistent}`));
      const renewed = sessionCookie(await post(app, "/regenerate", pair(first)));
      assert.notEqual(renewed.value, first.value);
      assert.equal(isPersistent(renewed), persistent);
    });

    await t.step(`${kind} session opens the same on the Web Crypto backend`, async () => {
      const { app } = makeApp({ persistent: !persistent, backend: "webcrypto" });
      const first = sessionCookie(await post(app, `/set/Ada?remember=${persistent}`));
      assert.equal(isPersistent(first), persistent);
      const { app: node } = makeApp({ persistent: !persistent });
      assert.equal((await read(node, pair(first))).persistent, persistent);
    });
  }
});

Deno.test("a browser-session cookie still ends at the sealed deadlines", async (t) => {
  await t.step("absolute: maxAge after issue, whatever the browser kept", async () => {
    const { app, clock } = makeApp({ persistent: false, maxAge: 3600 });
    const cookie = sessionCookie(await post(app, "/set/Ada"));
    clock.now += 3599_000;
    assert.equal((await read(app, pair(cookie))).name, "Ada");
    clock.now += 1000;
    assert.deepEqual(await read(app, pair(cookie)), { name: null, persistent: false, isNew: true });
  });
  await t.step("idle: idleTimeout after the last write", async () => {
    const { app, clock } = makeApp({ persistent: false, idleTimeout: 600 });
    const cookie = sessionCookie(await post(app, "/set/Ada"));
    clock.now += 600_000;
    assert.equal((await read(app, pair(cookie))).name, null);
  });
});

Deno.test("destroy() deletes the cookie whatever its kind, and a new session gets the default", async (t) => {
  const { app } = makeApp({ persistent: false });
  const remembered = sessionCookie(await post(app, "/set/Ada?remember=true"));
  await t.step("the deletion is Max-Age=0", async () => {
    const gone = sessionCookie(await post(app, "/logout", pair(remembered)));
    assert.equal(gone.value, "");
    assert.equal(gone.attributes.get("max-age"), "0");
  });
  await t.step("data set after destroy() starts a browser-session session", async () => {
    const fresh = sessionCookie(await post(app, "/destroy-and-set", pair(remembered)));
    assert.equal(isPersistent(fresh), false);
    assert.deepEqual(await read(app, pair(fresh)), {
      name: "after",
      persistent: false,
      isNew: false,
    });
  });
});

Deno.test("the server-side store keeps the choice in the sealed cookie", async () => {
  using kv = await Deno.openKv(":memory:");
  const { app } = makeApp({ persistent: false, store: kvStore(kv) });
  const first = sessionCookie(await post(app, "/set/Ada"));
  assert.equal(isPersistent(first), false);
  // A data change goes to the store only; the cookie (the sealed id) is not re-written.
  const changed = await post(app, "/set/Grace", pair(first));
  assert.deepEqual(changed.headers.getSetCookie(), []);
  assert.deepEqual(await read(app, pair(first)), {
    name: "Grace",
    persistent: false,
    isNew: false,
  });

  const remembered = sessionCookie(await post(app, "/remember/true", pair(first)));
  assert.equal(remembered.attributes.get("max-age"), String(MAX_AGE));
  assert.deepEqual(await read(app, pair(remembered)), {
    name: "Grace",
    persistent: true,
    isNew: false,
  });
  const later = await post(app, "/set/Ada", pair(remembered));
  assert.deepEqual(later.headers.getSetCookie(), []);
  assert.equal((await read(app, pair(remembered))).persistent, true);
});

// The seal format: the flags byte, and cookies from before it.

const encoder = new TextEncoder();

/** The XAES-256-GCM key of a secret, derived as docs/seal-format.md says. */
async function sealKey(secret: string): Promise<Uint8Array> {
  const ikm = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: encoder.encode("sealed-sessions/v1"),
      info: encoder.encode("sealed-sessions/v1 xaes-256-gcm key"),
    },
    ikm,
    256,
  );
  return new Uint8Array(bits);
}

/** The plaintext of a sealed cookie value, opened with the documented key and AAD. */
async function plaintextOf(value: string, secret: string, name = "sealed"): Promise<Uint8Array> {
  const bytes = decodeBase64Url(value)!;
  const aad = new Uint8Array([...bytes.subarray(0, 5), ...encoder.encode(name)]);
  return await xaes256gcm.decrypt(
    await sealKey(secret),
    bytes.subarray(5, 29),
    bytes.subarray(29),
    aad,
  );
}

/** Seals a plaintext as the library would, for hand-made headers. */
async function sealPlaintext(
  plaintext: Uint8Array,
  template: string,
  secret: string,
  name = "sealed",
): Promise<string> {
  const prefix = decodeBase64Url(template)!.slice(0, 5); // version and key id
  const nonce = crypto.getRandomValues(new Uint8Array(24));
  const aad = new Uint8Array([...prefix, ...encoder.encode(name)]);
  const sealed = await xaes256gcm.encrypt(await sealKey(secret), nonce, plaintext, aad);
  return encodeBase64Url(new Uint8Array([...prefix, ...nonce, ...sealed]));
}

/**
 * How a reader of the first release (header length 28, no flags) reads a plaintext: it skips
 * header bytes it does not know. Frozen here to prove new cookies stay readable by old servers.
 */
function readAsVersion1(plaintext: Uint8Array) {
  const headerLength = plaintext[0]!;
  assert.ok(headerLength >= 28 && plaintext.length >= 1 + headerLength, "a valid v1 header");
  const view = new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.length);
  return {
    issuedAt: view.getUint32(17),
    expiresAt: view.getUint32(21),
    idleExpiresAt: view.getUint32(25),
    json: JSON.parse(new TextDecoder().decode(plaintext.subarray(1 + headerLength))),
  };
}

Deno.test("the flags byte follows the version-1 header, as docs/seal-format.md lays out", async (t) => {
  for (const persistent of [true, false]) {
    await t.step(
      `${persistent ? "persistent" : "browser-session"}: flags ${persistent ? 0 : 1}`,
      async () => {
        const { app } = makeApp({ persistent });
        const cookie = sessionCookie(await post(app, "/set/Ada"));
        const plaintext = await plaintextOf(cookie.value, SECRET);
        assert.equal(
          plaintext[0],
          36,
          "header length: 28 bytes of version 1, flags, milliseconds, sealing time, subject length",
        );
        assert.equal(plaintext[29], persistent ? 0x00 : 0x01);
        const view = new DataView(plaintext.buffer, plaintext.byteOffset);
        assert.equal(view.getUint16(30), T0 % 1000, "the issue time's milliseconds");
        assert.equal(view.getUint32(32), Math.floor(T0 / 1000), "sealed now");
        assert.equal(plaintext[36], 0, "no subject");
        assert.equal(new TextDecoder().decode(plaintext.subarray(37)), '{"name":"Ada"}');
      },
    );
  }
});

Deno.test("a version-1 reader, which skips unknown header bytes, reads new cookies", async () => {
  const { app } = makeApp({ persistent: false });
  const cookie = sessionCookie(await post(app, "/set/Ada"));
  const old = readAsVersion1(await plaintextOf(cookie.value, SECRET));
  assert.deepEqual(old.json, { name: "Ada" });
  assert.equal(old.issuedAt, T0 / 1000);
  assert.equal(old.expiresAt, T0 / 1000 + MAX_AGE);
  assert.equal(old.idleExpiresAt, 0);
});

Deno.test("cookies sealed before the flags byte open as persistent sessions", async (t) => {
  for (const sealed of fixture.cookies) {
    await t.step(sealed.description, async () => {
      // An app whose default is browser-session: the old cookie was persistent, and stays so.
      // Sealed under the cookie name of its time, which an upgraded app keeps.
      const { app, clock } = makeApp({
        persistent: false,
        secrets: [fixture.secret],
        cookieName: "session",
      });
      clock.now = (sealed.issuedAt + 60) * 1000;
      const plaintext = await plaintextOf(sealed.value, fixture.secret, "session");
      assert.equal(plaintext[0], 28, "a header without flags");
      const cookie = `session=${sealed.value}`;
      assert.deepEqual(await read(app, cookie), {
        name: sealed.data.name,
        persistent: true,
        isNew: false,
      });
      // A re-seal (a data change) keeps it persistent and now writes the flags byte.
      const resealed = sessionCookie(await post(app, "/set/Bea", cookie), "session");
      assert.equal(
        resealed.attributes.get("max-age"),
        String(sealed.expiresAt - sealed.issuedAt - 60),
      );
      const next = await plaintextOf(resealed.value, fixture.secret, "session");
      assert.deepEqual([next[0], next[29]], [36, 0]);
      const { issuedAt, expiresAt } = readAsVersion1(next);
      assert.deepEqual([issuedAt, expiresAt], [sealed.issuedAt, sealed.expiresAt]);
    });
  }
});

Deno.test("flag bits and header bytes a later version may add are ignored", async (t) => {
  const { app } = makeApp();
  const template = sessionCookie(await post(app, "/set/Ada")).value;
  const header = (await plaintextOf(template, SECRET)).subarray(0, 29);
  const json = encoder.encode('{"name":"Ada"}');
  for (
    const [label, flags, extra, persistent] of [
      ["an unknown bit with browser-session set", 0x81, [], false],
      ["an unknown bit alone", 0x80, [], true],
      ["two more header bytes after the flags", 0x01, [7, 9], false],
    ] as const
  ) {
    await t.step(label, async () => {
      const plaintext = new Uint8Array([
        29 + extra.length,
        ...header.subarray(1, 29),
        flags,
        ...extra,
        ...json,
      ]);
      const value = await sealPlaintext(plaintext, template, SECRET);
      assert.deepEqual(await read(app, `sealed=${value}`), {
        name: "Ada",
        persistent,
        isNew: false,
      });
    });
  }
});

// Flask: `_permanent` is Flask's session.permanent.

function flaskApp(mode: "migrate" | "shared", clockStart = T0) {
  return makeApp({
    persistent: true,
    foreign: (mode === "shared" ? flaskShared : flaskMigration)({
      secretKeys: [FLASK_KEY],
      cookieName: "flask",
    }),
    now: () => clockStart,
  });
}

Deno.test("a migrated Flask session keeps Flask's permanence, without the _permanent key", async (t) => {
  const now = new Date(T0 - 60_000);
  for (
    const [label, data, persistent] of [
      ["a permanent session becomes a persistent cookie", { name: "Ada", _permanent: true }, true],
      ["a session without _permanent becomes a browser-session cookie", { name: "Ada" }, false],
      [
        "_permanent: false is a browser-session cookie too",
        { name: "Ada", _permanent: false },
        false,
      ],
    ] as const
  ) {
    await t.step(label, async () => {
      const { app } = flaskApp("migrate");
      const flask = await sealFlaskCookie(data, { secretKeys: [FLASK_KEY], now });
      const res = await app.request("/", { headers: { cookie: `flask=${flask}` } });
      assert.deepEqual(await res.json(), { name: "Ada", persistent, isNew: true });
      const sealed = sessionCookie(res);
      assert.equal(isPersistent(sealed), persistent);
      assert.equal(sessionCookie(res, "flask").attributes.get("max-age"), "0");
      const plaintext = await plaintextOf(sealed.value, SECRET);
      assert.deepEqual(
        readAsVersion1(plaintext).json,
        { name: "Ada" },
        "no _permanent in the data",
      );
      assert.equal(plaintext[29], persistent ? 0 : 1);
    });
  }
});

Deno.test("shared mode writes the Flask cookie as Flask would for the session's permanence", async (t) => {
  const flaskOptions = { secretKeys: [FLASK_KEY], now: new Date(T0) };
  await t.step("a permanent session: _permanent in the data and Expires, no Max-Age", async () => {
    const { app } = flaskApp("shared");
    const res = await post(app, "/set/Ada?remember=true");
    const cookie = sessionCookie(res, "flask");
    // Flask's PERMANENT_SESSION_LIFETIME from now, in Werkzeug's http_date.
    assert.match(cookie.attributes.get("expires")!, /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
    assert.equal(new Date(cookie.attributes.get("expires")!).getTime(), T0 + 2_678_400_000);
    assert.equal(cookie.attributes.has("max-age"), false);
    assert.deepEqual(await unsealFlaskCookie(cookie.value, flaskOptions), {
      name: "Ada",
      _permanent: true,
    });
    assert.deepEqual(await read(app, pair(cookie)), {
      name: "Ada",
      persistent: true,
      isNew: false,
    });
  });
  await t.step("any other session: no _permanent, no Expires, no Max-Age", async () => {
    const { app } = flaskApp("shared");
    const res = await post(app, "/set/Ada?remember=false");
    const cookie = sessionCookie(res, "flask");
    assert.equal(isPersistent(cookie), false);
    assert.deepEqual(await unsealFlaskCookie(cookie.value, flaskOptions), { name: "Ada" });
    assert.deepEqual(await read(app, pair(cookie)), {
      name: "Ada",
      persistent: false,
      isNew: false,
    });
  });
  await t.step("a session Flask made permanent reads as persistent and stays so", async () => {
    const { app } = flaskApp("shared");
    const flask = await sealFlaskCookie({ name: "Grace", _permanent: true }, flaskOptions);
    assert.deepEqual(await read(app, `flask=${flask}`), {
      name: "Grace",
      persistent: true,
      isNew: false,
    });
    const cookie = sessionCookie(await post(app, "/set/Ada", `flask=${flask}`), "flask");
    assert.ok(cookie.attributes.has("expires"));
    assert.deepEqual(await unsealFlaskCookie(cookie.value, flaskOptions), {
      name: "Ada",
      _permanent: true,
    });
  });
});

Deno.test("a cookie answered from the open cache keeps its persistence", async () => {
  for (const persistent of [false, true]) {
    const { app } = makeApp({ persistent: !persistent });
    const cookie = pair(sessionCookie(await post(app, `/set/Ada?remember=${persistent}`)));
    // The cache keeps a cookie from its second sight on; later reads are hits.
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(await read(app, cookie), { name: "Ada", persistent, isNew: false });
    }
    const changed = sessionCookie(await post(app, "/set/Grace", cookie));
    assert.equal(isPersistent(changed), persistent);
  }
});

Deno.test("persistentMaxAge: a remembered session lasts its own lifetime, the others maxAge", async (t) => {
  const DAY = 86_400;
  const { app, clock } = makeApp({ persistent: false, maxAge: DAY, persistentMaxAge: 30 * DAY });
  const remembered = sessionCookie(await post(app, "/set/Ada?remember=true"));
  const forgotten = sessionCookie(await post(app, "/set/Bea?remember=false"));

  await t.step("the remembered cookie's Max-Age is the longer lifetime", () => {
    assert.equal(remembered.attributes.get("max-age"), String(30 * DAY));
    assert.equal(forgotten.attributes.get("max-age"), undefined);
  });
  await t.step("after two days only the remembered one is alive", async () => {
    clock.now = T0 + 2 * DAY * 1000;
    assert.equal((await read(app, pair(remembered))).name, "Ada");
    assert.equal((await read(app, pair(forgotten))).name, null);
  });
  await t.step("unticking Remember me brings the day back, counted from the issue", async () => {
    clock.now = T0 + 3_600_000;
    const res = await post(app, "/remember/false", pair(remembered));
    const unticked = sessionCookie(res);
    assert.equal(unticked.attributes.get("max-age"), undefined);
    clock.now = T0 + 2 * DAY * 1000;
    assert.equal((await read(app, pair(unticked))).name, null);
  });
  await t.step("ticking it on a day-long session gives it the longer lifetime", async () => {
    clock.now = T0;
    const day = sessionCookie(await post(app, "/set/Cy?remember=false"));
    const ticked = sessionCookie(await post(app, "/remember/true", pair(day)));
    assert.equal(ticked.attributes.get("max-age"), String(30 * DAY));
    clock.now = T0 + 10 * DAY * 1000;
    assert.equal((await read(app, pair(ticked))).name, "Cy");
  });
  await t.step(
    "an instance that does not know the longer lifetime refuses it but keeps the cookie",
    async () => {
      const other = makeApp({ persistent: false, maxAge: DAY });
      other.clock.now = T0 + 2 * DAY * 1000;
      const res = await other.app.request("/", { headers: { cookie: pair(remembered) } });
      assert.equal((await res.json()).name, null);
      assert.deepEqual(res.headers.getSetCookie(), []);
    },
  );
  await t.step("persistentMaxAge shorter than maxAge is refused at set-up", () => {
    assert.throws(
      () => session({ secrets: [SECRET], maxAge: DAY, persistentMaxAge: 60 }),
      /persistentMaxAge/,
    );
  });
});
