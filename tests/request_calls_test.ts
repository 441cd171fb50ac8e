/**
 * What a request's calls do: every row of the table in docs/library.md ("What a request's calls
 * do"), read from the document itself, run on two instances sharing a revocation list, on Deno
 * KV and on a real Redis, with and without a store. The visitor is signed in as `ada` on a
 * laptop (instance one) and a phone (instance two); the row's calls run in one request from the
 * laptop on instance one, and instance two is asked what holds.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { Redis } from "ioredis";
import { session, type SessionEnv, type SessionRevocation, type SessionStore } from "../lib/mod.ts";
import { kvRevocation, kvStore } from "../lib/kv/mod.ts";
import { redisRevocation, redisStore } from "../lib/redis/mod.ts";
import { CookieJar } from "./_cookie_jar.ts";
import { HAS_REDIS, startRedis } from "./redis_server.ts";

const SECRET = "a secret for the request calls test, 32+ bytes";
const DOC = new URL("../docs/library.md", import.meta.url);

/** One row of the documented table. */
interface Row {
  calls: string[];
  cookie: "same id" | "new id" | "deleted";
  signedInAs: string;
  oldCopy: "works" | "ended";
  others: "kept" | "ended";
}

/** The rows of the table under "What a request's calls do" in docs/library.md. */
async function documentedRows(): Promise<Row[]> {
  const text = await Deno.readTextFile(DOC);
  const section = text.split("### What a request's calls do")[1]!.split("\n### ")[0]!;
  return section.split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const [calls, cookie, signedInAs, oldCopy, others] = line.split("|").slice(1, 6).map((
        cell,
      ) => cell.trim());
      return {
        calls: [...calls!.matchAll(/`([^`]+)`/g)].map((match) => match[1]!),
        cookie: cookie as Row["cookie"],
        signedInAs: signedInAs!,
        oldCopy: oldCopy as Row["oldCopy"],
        others: others as Row["others"],
      };
    });
}

type Env = SessionEnv<{ name: string }>;

/** An instance: log in, run calls, and say who holds which session. */
function instance(revocation: SessionRevocation, store: SessionStore | undefined): Hono<Env> {
  const app = new Hono<Env>();
  app.onError((error, c) => c.text(String(error.stack), 500));
  app.use(session<{ name: string }>({ secrets: [SECRET], revocation, store }));
  app.post("/login/:user", (c) => {
    const s = c.get("session");
    s.subject = c.req.param("user");
    s.set("name", c.req.param("user"));
    return c.text("in");
  });
  app.post("/calls", async (c) => {
    const s = c.get("session");
    for (const call of await c.req.json() as string[]) {
      const subject = /^subject = "(.+)"$/.exec(call);
      if (subject) s.subject = subject[1];
      else if (call === "set()") s.set("name", "Ada Lovelace");
      else if (call === "flash()") s.flash("notice", "done");
      else if (call === "regenerate()") s.regenerate();
      else if (call === "destroy()") s.destroy();
      else if (call === "clear()") s.clear();
      else if (call === "signOutEverywhere()") s.signOutEverywhere();
      else if (call === "signOutOthers()") await s.signOutOthers();
      else throw new Error(`no such call in the table: ${call}`);
    }
    return c.text("done");
  });
  app.get("/me", (c) => {
    const s = c.get("session");
    return c.json(s.isNew ? { valid: false } : { valid: true, id: s.id, subject: s.subject });
  });
  return app;
}

type Me = { valid: false } | { valid: true; id: string; subject?: string };

async function send(app: Hono<Env>, jar: CookieJar, path: string, body?: unknown): Promise<Me> {
  const res = await app.request(`http://localhost${path}`, {
    method: body === undefined ? (path === "/me" ? "GET" : "POST") : "POST",
    headers: { cookie: jar.header },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.clone().text());
  jar.store(res);
  return path === "/me" ? await res.json() : { valid: false };
}

/** A browser with a copy of this jar's cookies. */
function copyOf(jar: CookieJar): CookieJar {
  const copy = new CookieJar();
  if (jar.header) copy.store(jar.header.split("; "));
  return copy;
}

/** Runs every row over two instances made by `backends`, fresh for each row. */
async function everyRow(
  t: Deno.TestContext,
  backends: () => Promise<[SessionRevocation, SessionRevocation, SessionStore?, SessionStore?]>,
): Promise<void> {
  const rows = await documentedRows();
  assert.ok(rows.length >= 20, `the table has ${rows.length} rows`);
  for (const row of rows) {
    await t.step(row.calls.join(", "), async () => {
      const [firstList, secondList, firstStore, secondStore] = await backends();
      const one = instance(firstList, firstStore);
      const two = instance(secondList, secondStore);
      const [laptop, phone] = [new CookieJar(), new CookieJar()];
      await send(one, laptop, "/login/ada");
      await send(two, phone, "/login/ada");
      const before = await send(two, copyOf(laptop), "/me");
      assert.ok(before.valid && before.subject === "ada");
      const oldCopy = copyOf(laptop);
      // The request comes at least a millisecond after the logins, as any real one does: a
      // session started in the very millisecond of a sign-out counts as started after it.
      await new Promise((resolve) => setTimeout(resolve, 2));

      await send(one, laptop, "/calls", row.calls);

      const after = await send(two, copyOf(laptop), "/me");
      if (row.cookie === "deleted") {
        assert.deepEqual(laptop.names, [], "the cookie is deleted");
      } else {
        assert.ok(after.valid, "the session written is valid on the other instance");
        assert.equal(after.id === before.id, row.cookie === "same id", "the id");
      }
      assert.equal((after.valid && after.subject) || "nobody", row.signedInAs);
      const copy = await send(two, oldCopy, "/me");
      assert.equal(copy.valid ? "works" : "ended", row.oldCopy, "a copy of the old cookie");
      const other = await send(two, phone, "/me");
      assert.equal(other.valid ? "kept" : "ended", row.others, "the phone's session");
      // Instance one agrees.
      const here = await send(one, copyOf(phone), "/me");
      assert.equal(here.valid ? "kept" : "ended", row.others, "the phone's session, here");
    });
  }
}

for (const withStore of [false, true]) {
  const how = withStore ? "with a store" : "without a store";

  Deno.test(`every documented sequence of calls holds on Deno KV, ${how}`, async (t) => {
    // One file, opened twice: as two instances would.
    const path = await Deno.makeTempFile({ suffix: ".sqlite3" });
    const [a, b] = [await Deno.openKv(path), await Deno.openKv(path)];
    try {
      await everyRow(t, () => {
        // Fresh entries per row: a prefix of its own.
        const prefix = ["row", crypto.randomUUID()];
        const lists = { prefix: [...prefix, "revoked"], cacheMs: 0 };
        return Promise.resolve(
          withStore
            ? [
              kvRevocation(a, lists),
              kvRevocation(b, lists),
              kvStore(a, { prefix: [...prefix, "data"] }),
              kvStore(b, { prefix: [...prefix, "data"] }),
            ]
            : [kvRevocation(a, lists), kvRevocation(b, lists)],
        );
      });
    } finally {
      a.close();
      b.close();
      await Deno.remove(path);
    }
  });

  Deno.test({
    name: `every documented sequence of calls holds on Redis, ${how}`,
    ignore: !HAS_REDIS,
    async fn(t) {
      await using redis = await startRedis();
      const [a, b] = [new Redis(redis.url), new Redis(redis.url)];
      try {
        await everyRow(t, () => {
          const prefix = `row:${crypto.randomUUID()}:`;
          const lists = { prefix: `${prefix}revoked:`, cacheMs: 0 };
          return Promise.resolve(
            withStore
              ? [
                redisRevocation(a, lists),
                redisRevocation(b, lists),
                redisStore(a, { prefix: `${prefix}data:` }),
                redisStore(b, { prefix: `${prefix}data:` }),
              ]
              : [redisRevocation(a, lists), redisRevocation(b, lists)],
          );
        });
      } finally {
        a.disconnect();
        b.disconnect();
      }
    },
  });
}
