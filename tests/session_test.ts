/**
 * The Session a handler holds, through a Hono app: flash messages as Flask keeps them, values
 * JSON would change refused where they are stored, changes after the response was committed
 * refused, and `Vary: Cookie` added once.
 */

import assert from "node:assert/strict";
import { Hono, type MiddlewareHandler } from "hono";
import { session, type SessionEnv, SessionError, SessionTooLargeError } from "../lib/mod.ts";
import { kvStore } from "../lib/kv/mod.ts";
import { CookieJar } from "./_cookie_jar.ts";

const SECRET = "session test secret, at least 32 bytes long";

function app(before?: MiddlewareHandler<SessionEnv>) {
  const app = new Hono<SessionEnv>();
  const errors: unknown[] = [];
  app.onError((error, c) => {
    errors.push(error);
    return c.text(`failed: ${error.message}`, 500);
  });
  if (before) app.use(before);
  app.use(session({ secrets: [SECRET] }));
  app.post("/flash/:category", async (c) => {
    c.get("session").flash(c.req.param("category"), await c.req.text());
    return c.text("flashed");
  });
  app.get(
    "/one/:category",
    (c) => c.json(c.get("session").consumeFlash(c.req.param("category")) ?? null),
  );
  app.get("/all", (c) => c.json(c.get("session").consumeFlashes()));
  app.get(
    "/all/:category",
    (c) => c.json(c.get("session").consumeFlashes(c.req.param("category"))),
  );
  return { app, errors };
}

async function send(
  target: Hono<SessionEnv>,
  jar: CookieJar,
  path: string,
  body?: string,
): Promise<Response> {
  const headers = new Headers();
  if (jar.header) headers.set("cookie", jar.header);
  const res = await target.request(
    new Request(`http://localhost${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers,
      body,
    }),
  );
  jar.store(res);
  return res;
}

Deno.test("flash() keeps every message of a category, in order, until read", async (t) => {
  const { app: target } = app();
  await t.step("two notices and an error, read one by one", async () => {
    const jar = new CookieJar();
    await send(target, jar, "/flash/notice", "Saved");
    await send(target, jar, "/flash/notice", "Mail sent");
    await send(target, jar, "/flash/error", "Out of paper");
    assert.equal(await (await send(target, jar, "/one/notice")).json(), "Saved");
    assert.equal(await (await send(target, jar, "/one/notice")).json(), "Mail sent");
    assert.equal(await (await send(target, jar, "/one/notice")).json(), null);
    assert.equal(await (await send(target, jar, "/one/error")).json(), "Out of paper");
  });
  await t.step(
    "every pending message with its category, as get_flashed_messages(with_categories=True)",
    async () => {
      const jar = new CookieJar();
      await send(target, jar, "/flash/notice", "Saved");
      await send(target, jar, "/flash/error", "Out of paper");
      await send(target, jar, "/flash/notice", "Mail sent");
      assert.deepEqual(await (await send(target, jar, "/all")).json(), [
        { category: "notice", message: "Saved" },
        { category: "notice", message: "Mail sent" },
        { category: "error", message: "Out of paper" },
      ]);
      // Read once: the cookie is deleted with the last of them.
      assert.deepEqual(await (await send(target, jar, "/all")).json(), []);
      assert.deepEqual(jar.names, []);
    },
  );
  await t.step("only one category, leaving the others pending", async () => {
    const jar = new CookieJar();
    await send(target, jar, "/flash/notice", "Saved");
    await send(target, jar, "/flash/error", "Out of paper");
    assert.deepEqual(await (await send(target, jar, "/all/error")).json(), [
      { category: "error", message: "Out of paper" },
    ]);
    assert.deepEqual(await (await send(target, jar, "/all")).json(), [
      { category: "notice", message: "Saved" },
    ]);
  });
});

Deno.test("set() refuses values JSON would change or cannot write, naming where, and stores nothing", async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ["bytes", { avatar: new Uint8Array([1, 2]) }, /"profile\.avatar".*of Uint8Array/],
    ["a Map", new Map([["a", 1]]), /"profile".*of Map.*Object\.fromEntries/],
    ["a Set", { tags: new Set(["a"]) }, /"profile\.tags".*of Set/],
    ["a Date", { seen: [new Date(0)] }, /"profile\.seen\[0\]".*of Date.*toISOString/],
    ["a bigint", { id: 1n }, /"profile\.id".*a bigint/],
    ["NaN", { score: Number.NaN }, /"profile\.score".*NaN/],
    ["undefined in a list", [1, undefined], /"profile\[1\]".*undefined in a list/],
    ["a function", { f: () => 1 }, /"profile\.f".*a function/],
    ["a class instance", { at: new URL("http://x") }, /"profile\.at".*of URL/],
  ];
  for (const [label, value, message] of cases) {
    await t.step(label, async () => {
      const target = new Hono<SessionEnv>();
      target.use(session({ secrets: [SECRET] }));
      target.post("/", (c) => {
        const s = c.get("session");
        s.set("name", "Ada");
        try {
          s.set("profile", value);
          return c.text("stored");
        } catch (error) {
          assert.ok(error instanceof TypeError);
          assert.match(error.message, message);
          return c.json({ refused: true, data: s.data });
        }
      });
      const res = await target.request("/", { method: "POST" });
      assert.deepEqual(await res.json(), { refused: true, data: { name: "Ada" } });
    });
  }
  await t.step("a cycle", async () => {
    const target = new Hono<SessionEnv>();
    target.use(session({ secrets: [SECRET] }));
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    target.post("/", (c) => {
      assert.throws(() => c.get("session").set("loop", loop), /"loop\.self".*a cycle/);
      return c.text("ok");
    });
    assert.equal((await target.request("/", { method: "POST" })).status, 200);
  });
  await t.step("plain data, nested, and a key holding undefined, are stored", async () => {
    const target = new Hono<SessionEnv>();
    target.use(session({ secrets: [SECRET] }));
    const profile = { tags: ["a", null], n: -0.5, deep: { ok: true, gone: undefined } };
    target.post("/", (c) => {
      c.get("session").set("profile", profile);
      return c.text("ok");
    });
    target.get("/", (c) => c.json(c.get("session").get("profile")));
    const jar = new CookieJar();
    jar.store(await target.request("/", { method: "POST" }));
    const read = await target.request("/", { headers: { cookie: jar.header } });
    assert.deepEqual(await read.json(), { tags: ["a", null], n: -0.5, deep: { ok: true } });
  });
});

Deno.test("a change after the response was committed throws instead of being lost", async () => {
  let late: unknown;
  // Registered before session(): runs its code after session() has written the cookie.
  const { app: target } = app(async (c, next) => {
    await next();
    try {
      c.get("session").set("late", true);
    } catch (error) {
      late = error;
    }
  });
  const jar = new CookieJar();
  await send(target, jar, "/flash/notice", "Saved");
  assert.ok(late instanceof SessionError, String(late));
  assert.equal(late.code, "ERR_SESSION_COMMITTED");
  assert.match(late.message, /after session\(\)/);
  // What the handler did is saved; reading stays possible.
  assert.equal(await (await send(target, jar, "/one/notice")).json(), "Saved");
});

Deno.test("Vary: Cookie is added once, even when the handler already named it", async (t) => {
  const target = new Hono<SessionEnv>();
  target.use(session({ secrets: [SECRET] }));
  target.get("/:vary", (c) => {
    c.get("session").get("name");
    const vary = c.req.param("vary");
    if (vary !== "none") c.header("Vary", vary);
    return c.text("ok");
  });
  const cases: [string, string][] = [
    ["none", "Cookie"],
    ["Accept", "Accept, Cookie"],
    ["Accept, Cookie", "Accept, Cookie"],
    ["cookie", "cookie"],
    ["*", "*"],
  ];
  for (const [sent, expected] of cases) {
    await t.step(`Vary: ${sent}`, async () => {
      const res = await target.request(`/${encodeURIComponent(sent)}`);
      assert.equal(res.headers.get("vary"), expected);
    });
  }
});

Deno.test("set() past the cookie budget throws SessionTooLargeError the handler can answer, the cookie intact", async () => {
  const target = new Hono<SessionEnv>();
  target.use(session({ secrets: [SECRET] }));
  target.post("/note/:bytes", (c) => {
    const s = c.get("session");
    try {
      s.set("note", "x".repeat(Number(c.req.param("bytes"))));
    } catch (error) {
      if (!(error instanceof SessionTooLargeError)) throw error;
      return c.json(
        { refused: error.message, limit: error.limit, note: String(s.get("note")).length },
        413,
      );
    }
    return c.text("saved");
  });
  target.get("/", (c) => c.json(String(c.get("session").get("note") ?? "").length));
  const jar = new CookieJar();
  const saved = await send(target, jar, "/note/1000", "");
  assert.equal(await saved.text(), "saved");
  const before = jar.header;

  const refused = await send(target, jar, "/note/8000", "");
  assert.equal(refused.status, 413);
  const answer = await refused.json();
  assert.equal(answer.limit, 6144);
  assert.match(answer.refused, /Cookie header.*maxCookieBytes/);
  assert.equal(answer.note, 1000, "the value before the refused change is still there");
  assert.deepEqual(refused.headers.getSetCookie(), [], "the browser keeps its cookie");
  assert.equal(jar.header, before);
  assert.equal(await (await send(target, jar, "/")).json(), 1000);
  // Just under the budget fits, in two cookies.
  assert.equal(await (await send(target, jar, "/note/4000", "")).text(), "saved");
});

Deno.test("set() past a store's size limit throws where it is made", async () => {
  using kv = await Deno.openKv(":memory:");
  const target = new Hono<SessionEnv>();
  target.use(session({ secrets: [SECRET], store: kvStore(kv) }));
  target.post("/", (c) => {
    assert.throws(
      () => c.get("session").set("blob", "x".repeat(70_000)),
      (error: unknown) => error instanceof SessionTooLargeError && /Deno KV/.test(error.message),
    );
    c.get("session").set("small", "ok");
    return c.text("ok");
  });
  const res = await target.request("/", { method: "POST" });
  assert.equal(await res.text(), "ok");
});

Deno.test("subject is sealed, kept by re-seals, rotation and regenerate(), cleared by destroy()", async (t) => {
  const OLD = SECRET;
  const NEW = "the next session test secret, 32+ bytes";
  const make = (secrets: string[], store?: ReturnType<typeof kvStore>) => {
    const app = new Hono<SessionEnv>();
    app.use(session({ secrets, ...(store ? { store } : {}) }));
    app.post("/login/:who", (c) => {
      c.get("session").subject = c.req.param("who");
      return c.text("in");
    });
    app.post("/note/:n", (c) => (c.get("session").set("n", c.req.param("n")), c.text("ok")));
    app.post("/regenerate", (c) => (c.get("session").regenerate(), c.text("ok")));
    app.post("/destroy", (c) => (c.get("session").destroy(), c.text("ok")));
    app.get(
      "/",
      (c) => c.json({ subject: c.get("session").subject ?? null, id: c.get("session").id }),
    );
    return app;
  };
  using kv = await Deno.openKv(":memory:");
  for (const [mode, store] of [["cookie", undefined], ["store", kvStore(kv)]] as const) {
    await t.step(`in ${mode} mode`, async () => {
      const jar = new CookieJar();
      const old = make([OLD], store);
      await send(old, jar, "/login/user-42", "");
      const first = await (await send(old, jar, "/")).json();
      assert.equal(first.subject, "user-42");
      assert.ok(!jar.header.includes("user-42"), "not readable in the cookie");
      await send(old, jar, "/note/1", "");
      assert.equal(
        (await (await send(old, jar, "/")).json()).subject,
        "user-42",
        "after a re-seal",
      );
      const rotated = make([NEW, OLD], store);
      const before = jar.header;
      await send(rotated, jar, "/");
      assert.notEqual(jar.header, before, "re-sealed under the new secret");
      assert.equal((await (await send(make([NEW], store), jar, "/")).json()).subject, "user-42");
      await send(rotated, jar, "/regenerate", "");
      const after = await (await send(rotated, jar, "/")).json();
      assert.equal(after.subject, "user-42", "after regenerate()");
      assert.notEqual(after.id, first.id);
      await send(rotated, jar, "/destroy", "");
      assert.equal((await (await send(rotated, jar, "/")).json()).subject, null);
    });
  }
});

Deno.test("subject refuses what String() makes of a missing form field, and keeps the session as it was", async () => {
  const app = new Hono<SessionEnv>();
  app.use(session({ secrets: [SECRET] }));
  app.post("/login", async (c) => {
    const form = await c.req.parseBody();
    try {
      c.get("session").subject = String(form.user); // the form has no `user` field
    } catch (error) {
      return c.text(error instanceof TypeError ? error.message : "other", 400);
    }
    return c.text("in");
  });
  for (const body of ["name=Ada", "user=null"]) {
    const res = await app.request("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /received the text "(undefined|null)"/);
    assert.deepEqual(res.headers.getSetCookie(), []);
  }
});
