/**
 * `failOpen: true` chooses availability when the store or revocation list is down: the visitor
 * may see an empty session for a while, but is never logged out by it — no request marks the
 * cookie invalid, deletes it, or replaces it with a session the store never saved.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  type InvalidReason,
  session,
  type SessionEnv,
  SessionError,
  type SessionRevocation,
  type SessionStore,
  type StoredSession,
} from "../lib/mod.ts";

const SECRET = "fail open test secret, thirty-two bytes+";

function outage(): SessionError {
  return new SessionError("ERR_SESSION_STORE_UNAVAILABLE", "the store did not answer");
}

/** An in-memory store that can be taken down, for reads and writes separately. */
function flakyStore() {
  const map = new Map<string, StoredSession>();
  const down = { reads: false, writes: false };
  const key = (id: Uint8Array) => id.join(",");
  let version = 0;
  const store: SessionStore = {
    load: (id) => down.reads ? Promise.reject(outage()) : Promise.resolve(map.get(key(id))),
    save: (id, body) => {
      if (down.writes) return Promise.reject(outage());
      const saved = { body, version: String(++version) };
      map.set(key(id), saved);
      return Promise.resolve(saved);
    },
    delete: (id) =>
      down.writes ? Promise.reject(outage()) : Promise.resolve(void map.delete(key(id))),
  };
  return { store, down };
}

function flakyRevocation() {
  const revoked = new Set<string>();
  const down = { on: false };
  const revocation: SessionRevocation = {
    isRevoked: (id) => down.on ? Promise.reject(outage()) : Promise.resolve(revoked.has(id.join())),
    revoke: (id) =>
      down.on ? Promise.reject(outage()) : Promise.resolve(void revoked.add(id.join())),
  };
  return { revocation, down };
}

function makeApp(options: { store?: SessionStore; revocation?: SessionRevocation }) {
  const invalid: InvalidReason[] = [];
  const app = new Hono<SessionEnv<{ name: string }>>();
  app.use(session<{ name: string }>({
    secrets: [SECRET],
    failOpen: true,
    onInvalid: (reason) => void invalid.push(reason),
    ...options,
  }));
  app.post("/name/:name", (c) => {
    c.get("session").set("name", c.req.param("name"));
    return c.text("ok");
  });
  app.post("/regenerate", (c) => {
    c.get("session").regenerate();
    return c.text("ok");
  });
  app.post("/clear", (c) => {
    c.get("session").clear();
    return c.text("ok");
  });
  app.post("/logout", (c) => {
    c.get("session").destroy();
    return c.body(null, 204);
  });
  app.get("/", (c) => c.text(c.get("session").get("name") ?? "nobody"));
  return { app, invalid };
}

/** Runs `body` with console.error captured (the outage is logged), returning what was logged. */
async function quietly(body: () => Promise<void>): Promise<string[]> {
  const logged: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void logged.push(String(args[0]));
  try {
    await body();
  } finally {
    console.error = original;
  }
  return logged;
}

function cookieOf(res: Response): string {
  return res.headers.getSetCookie()[0]!.split(";")[0]!;
}

Deno.test("failOpen: a store outage neither refuses, deletes nor replaces the session cookie", async (t) => {
  const { store, down } = flakyStore();
  const { app, invalid } = makeApp({ store });
  const cookie = cookieOf(await app.request("/name/Ada", { method: "POST" }));
  const get = (path: string, method = "GET") => app.request(path, { method, headers: { cookie } });

  await t.step(
    "while the store cannot be read, the session is empty and the cookie kept",
    async () => {
      down.reads = true;
      const logged = await quietly(async () => {
        const res = await get("/");
        assert.equal(await res.text(), "nobody");
        assert.deepEqual(res.headers.getSetCookie(), []);
        for (const path of ["/name/Eve", "/regenerate"]) {
          const write = await get(path, "POST");
          assert.equal(write.status, 200);
          assert.deepEqual(write.headers.getSetCookie(), [], `${path} sends no Set-Cookie`);
        }
      });
      assert.ok(logged.some((line) => /failing open/.test(line)), "the outage is logged");
      assert.deepEqual(invalid, [], "the cookie is not reported invalid");
    },
  );

  await t.step("once the store is back, the same cookie holds the same session", async () => {
    down.reads = false;
    assert.equal(await (await get("/")).text(), "Ada");
  });

  await t.step("a change the store cannot save keeps the cookie and the stored data", async () => {
    down.writes = true;
    await quietly(async () => {
      for (const path of ["/name/Eve", "/regenerate"]) {
        const res = await get(path, "POST");
        assert.equal(res.status, 200);
        assert.deepEqual(res.headers.getSetCookie(), [], `${path} sends no Set-Cookie`);
      }
    });
    down.writes = false;
    assert.equal(await (await get("/")).text(), "Ada");
  });

  await t.step("an explicit logout during the outage still deletes the cookie", async () => {
    down.reads = true;
    down.writes = true;
    await quietly(async () => {
      const res = await get("/logout", "POST");
      assert.equal(res.status, 204);
      assert.match(res.headers.getSetCookie()[0]!, /^sealed=; Max-Age=0/);
      // clear() is destroy() under Flask's name.
      const cleared = await get("/clear", "POST");
      assert.equal(cleared.status, 200);
      assert.match(cleared.headers.getSetCookie()[0]!, /^sealed=; Max-Age=0/);
    });
  });
});

Deno.test("failOpen: a revocation outage accepts the session and keeps the cookie", async () => {
  const { revocation, down } = flakyRevocation();
  const { app, invalid } = makeApp({ revocation });
  const cookie = cookieOf(await app.request("/name/Ada", { method: "POST" }));
  down.on = true;
  await quietly(async () => {
    const res = await app.request("/", { headers: { cookie } });
    assert.equal(await res.text(), "Ada");
    assert.deepEqual(res.headers.getSetCookie(), []);
    // A change still works: the data lives in the cookie.
    const renamed = await app.request("/name/Ada%20L", { method: "POST", headers: { cookie } });
    const next = cookieOf(renamed);
    assert.equal(await (await app.request("/", { headers: { cookie: next } })).text(), "Ada L");
  });
  assert.deepEqual(invalid, []);
});

Deno.test("failOpen: an outage is logged by name and message, never with what the client's error carries", async () => {
  const secretJson = '{"card":"4111 1111 1111 1111"}';
  const cause = Object.assign(new Error("ERR OOM command not allowed"), {
    command: { name: "set", args: ["sealed-sessions:data:ab12", secretJson] },
  });
  const store: SessionStore = {
    load: () => Promise.resolve(undefined),
    save: () =>
      Promise.reject(
        new SessionError("ERR_SESSION_STORE_UNAVAILABLE", "the store did not answer", { cause }),
      ),
    delete: () => Promise.resolve(),
  };
  const { app } = makeApp({ store });
  const logged = await quietly(async () => {
    const res = await app.request("/name/Ada", { method: "POST" });
    assert.equal(res.status, 200);
  });
  assert.equal(logged.length, 1);
  assert.match(logged[0]!, /Error: ERR OOM command not allowed/);
  assert.doesNotMatch(logged.join("\n"), /4111|sealed-sessions:data/);
});
