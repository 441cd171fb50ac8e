/**
 * The greeting service as a real process: start-up configuration, several instances
 * sharing a secret, and secret rotation, driven over HTTP with a cookie jar.
 */

import assert from "node:assert/strict";
import { CookieJar } from "./_cookie_jar.ts";
import { runMain, type RunningServer, startServer } from "./_server.ts";

const SECRET = "server test secret: thirty-two bytes or more";
const OLD_SECRET = "the old secret that is about to be rotated out";
const NEW_SECRET = "the new secret that replaces the old one!!";
const JSON_ACCEPT = { accept: "application/json" };

function greetingForm(name: string, lastname: string): RequestInit {
  return {
    method: "POST",
    body: new URLSearchParams({ name, lastname }),
    headers: JSON_ACCEPT,
  };
}

async function readSession(
  jar: CookieJar,
  url: string,
): Promise<{ data: unknown; setCookie: string[] }> {
  const res = await jar.fetch(`${url}/session-data`, { headers: JSON_ACCEPT });
  assert.equal(res.status, 200);
  return { data: await res.json(), setCookie: res.headers.getSetCookie() };
}

Deno.test("A greeting posted to one instance is read by another with the same secret", async () => {
  const first = await startServer({ env: { SESSION_SECRET: SECRET } });
  try {
    const second = await startServer({ env: { SESSION_SECRET: SECRET } });
    try {
      assert.notEqual(first.url, second.url);
      const jar = new CookieJar();
      const posted = await jar.fetch(`${first.url}/greeting`, greetingForm("Ada", "Lovelace"));
      assert.equal(posted.status, 200);
      assert.deepEqual(await posted.json(), { greeting: "Hello Ada Lovelace" });
      assert.deepEqual(jar.names, ["sealed"]);

      const { data } = await readSession(jar, second.url);
      assert.deepEqual(data, { name: "Ada", lastname: "Lovelace" });

      const home = await jar.fetch(`${second.url}/`);
      assert.match(await home.text(), /Welcome back, Ada Lovelace/);

      // Logging out on the second instance ends the session for the first too.
      const logout = await jar.fetch(`${second.url}/logout`, { method: "POST" });
      assert.equal(logout.status, 204);
      await logout.body?.cancel();
      assert.deepEqual(jar.names, []);
      assert.deepEqual((await readSession(jar, first.url)).data, { name: null, lastname: null });
    } finally {
      await second.stop();
    }
  } finally {
    await first.stop();
  }
});

Deno.test("Rotating the secret keeps sessions alive through SESSION_SECRET_FALLBACKS", async (t) => {
  const servers: RunningServer[] = [];
  const start = async (env: Record<string, string>) => {
    const server = await startServer({ env });
    servers.push(server);
    return server;
  };
  try {
    const old = await start({ SESSION_SECRET: OLD_SECRET });
    const rotating = await start({
      SESSION_SECRET: NEW_SECRET,
      SESSION_SECRET_FALLBACKS: OLD_SECRET,
    });
    const rotated = await start({ SESSION_SECRET: NEW_SECRET });

    const oldJar = new CookieJar();
    const posted = await oldJar.fetch(`${old.url}/greeting`, greetingForm("Grace", "Hopper"));
    assert.equal(posted.status, 200);
    await posted.body?.cancel();
    const oldCookie = oldJar.header;

    const jar = new CookieJar();
    jar.store(posted);

    await t.step("a server with the old secret as a fallback reads the old cookie", async () => {
      const { data, setCookie } = await readSession(jar, rotating.url);
      assert.deepEqual(data, { name: "Grace", lastname: "Hopper" });
      // ... and seals it again under the new secret on the same response, still a
      // browser-session cookie (the greeting was posted without "Remember me").
      assert.equal(setCookie.length, 1);
      assert.match(setCookie[0]!, /^sealed=[^;]+; Path=\//);
      assert.doesNotMatch(setCookie[0]!, /Max-Age|Expires/i);
      assert.notEqual(jar.header, oldCookie);
    });

    await t.step("a server with only the new secret accepts the re-sealed cookie", async () => {
      const { data, setCookie } = await readSession(jar, rotated.url);
      assert.deepEqual(data, { name: "Grace", lastname: "Hopper" });
      assert.deepEqual(setCookie, [], "an up-to-date cookie needs no rewrite");
    });

    await t.step("a server with only the new secret treats the old cookie as empty", async () => {
      const stale = new CookieJar();
      stale.store(posted);
      const res = await stale.fetch(`${rotated.url}/session-data`, { headers: JSON_ACCEPT });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { name: null, lastname: null });
    });

    await t.step("the re-sealed cookie no longer opens on the old server", async () => {
      const { data } = await readSession(jar, old.url);
      assert.deepEqual(data, { name: null, lastname: null });
    });
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
});

Deno.test("The real server enforces body limits and cross-site refusal", async (t) => {
  const server = await startServer({ env: { SESSION_SECRET: SECRET } });
  try {
    await t.step("413 for a chunked body over 16 KiB without Content-Length", async () => {
      const chunk = new TextEncoder().encode("x".repeat(1024));
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          // Bounded, so the test ends even if the server read everything.
          if (sent++ < 64) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const res = await fetch(`${server.url}/greeting`, {
        method: "POST",
        body,
        headers: { "content-type": "application/x-www-form-urlencoded", ...JSON_ACCEPT },
        // @ts-ignore: `duplex` is required for stream bodies but missing from RequestInit's type.
        duplex: "half",
      });
      assert.equal(res.status, 413);
      assert.match((await res.json()).error, /larger than the limit/);
    });

    await t.step("413 for a body over 16 KiB with Content-Length", async () => {
      const res = await fetch(`${server.url}/greeting`, {
        method: "POST",
        body: JSON.stringify({ name: "Ada", lastname: "x".repeat(20_000) }),
        headers: { "content-type": "application/json", ...JSON_ACCEPT },
      });
      assert.equal(res.status, 413);
      await res.body?.cancel();
    });

    await t.step("403 for a post from another origin, 200 from the server's own", async () => {
      const evil = await fetch(`${server.url}/greeting`, {
        ...greetingForm("Mallory", "Evil"),
        headers: { ...JSON_ACCEPT, origin: "http://evil.example" },
      });
      assert.equal(evil.status, 403);
      await evil.body?.cancel();
      const own = await fetch(`${server.url}/greeting`, {
        ...greetingForm("Ada", "Lovelace"),
        headers: { ...JSON_ACCEPT, origin: server.url },
      });
      assert.equal(own.status, 200);
      await own.body?.cancel();
    });

    await t.step("security headers and no cookie on /healthz", async () => {
      const res = await fetch(`${server.url}/healthz`);
      assert.equal(await res.text(), "ok");
      assert.deepEqual(res.headers.getSetCookie(), []);
      assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    });
  } finally {
    await server.stop();
  }
});

Deno.test("main.ts refuses to start without SESSION_SECRET and says how to make one", async () => {
  const { code, stderr } = await runMain({ env: {} });
  assert.equal(code, 1);
  assert.match(stderr, /SESSION_SECRET is not set/);
  assert.match(stderr, /openssl rand -base64 32/);
  assert.match(
    stderr,
    /deno eval "console\.log\(crypto\.randomUUID\(\)\+crypto\.randomUUID\(\)\)"/,
  );
  // A configuration error is not a crash: no stack trace.
  assert.doesNotMatch(stderr, /\bat .*main\.ts/);
});

Deno.test("main.ts requires SESSION_SECRET on Deno Deploy even in dev mode", async () => {
  const { code, stderr } = await runMain({
    args: ["--dev"],
    env: { DENO_DEPLOYMENT_ID: "test-deployment" },
  });
  assert.equal(code, 1);
  assert.match(stderr, /required on Deno Deploy/);
});

Deno.test("main.ts exits 1 naming the variable that holds a bad value", async (t) => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ["a short SESSION_SECRET", { SESSION_SECRET: "short" }, /SESSION_SECRET must be at least 32/],
    ["a short fallback", {
      SESSION_SECRET: SECRET,
      SESSION_SECRET_FALLBACKS: "tiny",
    }, /SESSION_SECRET_FALLBACKS \(entry 1\) must be at least 32/],
    ["a non-numeric SESSION_MAX_AGE", {
      SESSION_SECRET: SECRET,
      SESSION_MAX_AGE: "forever",
    }, /SESSION_MAX_AGE must be a whole number of seconds/],
    ["a non-numeric PORT", { SESSION_SECRET: SECRET, PORT: "eighty" }, /PORT must be a port/],
  ];
  for (const [label, env, message] of cases) {
    await t.step(label, async () => {
      const { code, stderr } = await runMain({ env });
      assert.equal(code, 1, stderr);
      assert.match(stderr, message);
    });
  }
});

Deno.test("Dev mode starts without a secret and warns loudly on stderr", async (t) => {
  const modes: Array<[string, { args?: string[]; env?: Record<string, string> }]> = [
    ["with --dev (what deno task dev passes)", { args: ["--dev"] }],
    ["with SEALED_DEV=1", { env: { SEALED_DEV: "1" } }],
  ];
  for (const [label, options] of modes) {
    await t.step(label, async () => {
      const server = await startServer(options);
      try {
        const warning = server.stderr();
        assert.match(warning, /WARNING: SESSION_SECRET is not set/);
        assert.match(warning, /openssl rand -base64 32/);
        assert.ok(warning.trim().split("\n").length >= 5, "the warning spans several lines");

        const jar = new CookieJar();
        const res = await jar.fetch(`${server.url}/greeting`, greetingForm("Ada", "Lovelace"));
        assert.equal(res.status, 200);
        await res.body?.cancel();
        assert.deepEqual((await readSession(jar, server.url)).data, {
          name: "Ada",
          lastname: "Lovelace",
        });
      } finally {
        await server.stop();
      }
    });
  }
});
