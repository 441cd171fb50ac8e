/**
 * `SESSION_COOKIE_SECURE`: the service's session cookie behind a proxy that terminates TLS,
 * where every request reaches the process as `http:`.
 */

import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../routes/config.ts";
import { runMain, startServer } from "./_server.ts";

const SECRET = "cookie secure test secret, 32 bytes or more";

function greeting(): RequestInit {
  return {
    method: "POST",
    body: new URLSearchParams({ name: "Ada", lastname: "Lovelace" }),
    headers: { accept: "application/json" },
  };
}

Deno.test("loadConfig() reads SESSION_COOKIE_SECURE as auto, true or false", async (t) => {
  await t.step("auto when unset or empty", () => {
    assert.equal(loadConfig({ SESSION_SECRET: SECRET }).cookieSecure, "auto");
    assert.equal(
      loadConfig({ SESSION_SECRET: SECRET, SESSION_COOKIE_SECURE: "" }).cookieSecure,
      "auto",
    );
    assert.equal(
      loadConfig({ SESSION_SECRET: SECRET, SESSION_COOKIE_SECURE: "auto" }).cookieSecure,
      "auto",
    );
  });
  await t.step("true and false as booleans", () => {
    assert.equal(
      loadConfig({ SESSION_SECRET: SECRET, SESSION_COOKIE_SECURE: "true" }).cookieSecure,
      true,
    );
    assert.equal(
      loadConfig({ SESSION_SECRET: SECRET, SESSION_COOKIE_SECURE: "false" }).cookieSecure,
      false,
    );
  });
  await t.step("anything else is an error naming the variable", () => {
    for (const bad of ["yes", "1", "TRUE", "on"]) {
      assert.throws(
        () => loadConfig({ SESSION_SECRET: SECRET, SESSION_COOKIE_SECURE: bad }),
        (e: unknown) =>
          e instanceof ConfigError && e.variable === "SESSION_COOKIE_SECURE" &&
          e.message.includes(JSON.stringify(bad)) &&
          e.message.includes('"auto", "true" or "false"'),
      );
    }
  });
});

Deno.test("SESSION_COOKIE_SECURE=true sends __Host-sealed with Secure over plain HTTP", async () => {
  // The process only ever sees http: requests, as behind a TLS-terminating proxy.
  const server = await startServer({
    env: { SESSION_SECRET: SECRET, SESSION_COOKIE_SECURE: "true" },
  });
  try {
    const res = await fetch(`${server.url}/greeting`, greeting());
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const [cookie, ...others] = res.headers.getSetCookie();
    assert.equal(others.length, 0);
    assert.match(cookie!, /^__Host-sealed=[A-Za-z0-9_-]+;/);
    assert.match(cookie!, /; Secure(;|$)/);
    assert.match(cookie!, /; Path=\/(;|$)/);
    assert.doesNotMatch(cookie!, /Domain=/i);

    // The proxy forwards the cookie back: the session is read under the prefixed name.
    const again = await fetch(`${server.url}/session-data`, {
      headers: { accept: "application/json", cookie: cookie!.split(";")[0]! },
    });
    assert.deepEqual(await again.json(), { name: "Ada", lastname: "Lovelace" });
    // A plain `session` cookie (one an HTTP page or a sibling host could plant) is not read.
    const planted = await fetch(`${server.url}/session-data`, {
      headers: {
        accept: "application/json",
        cookie: cookie!.split(";")[0]!.replace("__Host-sealed", "sealed"),
      },
    });
    assert.deepEqual(await planted.json(), { name: null, lastname: null });
  } finally {
    await server.stop();
  }
});

Deno.test("SESSION_COOKIE_SECURE unset or false sends a plain session cookie over HTTP", async (t) => {
  const envs: Record<string, string>[] = [{}, { SESSION_COOKIE_SECURE: "false" }];
  for (const env of envs) {
    await t.step(JSON.stringify(env), async () => {
      const server = await startServer({ env: { SESSION_SECRET: SECRET, ...env } });
      try {
        const res = await fetch(`${server.url}/greeting`, greeting());
        await res.body?.cancel();
        const [cookie] = res.headers.getSetCookie();
        assert.match(cookie!, /^sealed=/);
        assert.doesNotMatch(cookie!, /Secure/);
      } finally {
        await server.stop();
      }
    });
  }
});

Deno.test("main.ts exits 1 naming SESSION_COOKIE_SECURE when it holds a bad value", async () => {
  const { code, stderr } = await runMain({
    env: { SESSION_SECRET: SECRET, SESSION_COOKIE_SECURE: "yes" },
  });
  assert.equal(code, 1, stderr);
  assert.match(stderr, /SESSION_COOKIE_SECURE must be "auto", "true" or "false", received "yes"/);
  assert.doesNotMatch(stderr, /\bat .*\.ts:\d+/, "no stack trace");
});
