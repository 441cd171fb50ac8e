/**
 * The service configuration: `loadConfig()` from the environment and what `createApp()` refuses.
 */

import assert from "node:assert/strict";
import { buildApp, createApp, loadConfig } from "../main.ts";
import { ConfigError, isDevMode } from "../routes/config.ts";

Deno.test("createApp() refuses a secret shorter than 32 bytes", () => {
  assert.throws(() => createApp({ secrets: ["short"] }), /at least 32 bytes/);
});

Deno.test("loadConfig() reads the configuration from environment variables", async (t) => {
  const secret = "a production secret of 32+ bytes!!";
  const older = "an older secret that is still 32+ bytes long";

  await t.step("with defaults for everything but the secret", () => {
    const config = loadConfig({ SESSION_SECRET: secret });
    assert.deepEqual(config, {
      dev: false,
      secrets: [secret],
      nextSecrets: [],
      maxAge: undefined,
      cookieSecure: "auto",
      idleTimeout: undefined,
      shutdownTimeout: 10,
      bodyTimeout: undefined,
      port: 8000,
      hostname: "0.0.0.0",
      logRequests: false,
      ephemeralSecret: false,
      kv: undefined,
      store: false,
      flask: undefined,
    });
  });

  await t.step("with Deno KV revocation and the server-side store", () => {
    const config = loadConfig({
      SESSION_SECRET: secret,
      SESSION_KV: ".data/sessions.sqlite",
      SESSION_STORE: "kv",
    });
    assert.equal(config.kv, ".data/sessions.sqlite");
    assert.equal(config.store, true);
    assert.throws(
      () => loadConfig({ SESSION_SECRET: secret, SESSION_STORE: "kv" }),
      (e: unknown) => e instanceof ConfigError && /needs SESSION_KV/.test(e.message),
    );
    assert.throws(
      () => loadConfig({ SESSION_SECRET: secret, SESSION_KV: "x", SESSION_STORE: "redis" }),
      (e: unknown) => e instanceof ConfigError && e.variable === "SESSION_STORE",
    );
  });

  await t.step("with the Flask bridge, migrate mode by default", () => {
    const config = loadConfig({
      SESSION_SECRET: secret,
      FLASK_SECRET_KEY: "tutorial-secret-key",
      FLASK_SECRET_KEY_FALLBACKS: "older-key, oldest-key",
    });
    assert.deepEqual(config.flask, {
      mode: "migrate",
      secretKeys: ["tutorial-secret-key", "older-key", "oldest-key"],
      cookieName: "session",
      domain: undefined,
      path: "/",
      secure: false,
      sameSite: "Lax",
    });
    const shared = loadConfig({
      SESSION_SECRET: secret,
      FLASK_SECRET_KEY: "k",
      FLASK_SESSION_MODE: "shared",
      FLASK_SESSION_COOKIE_NAME: "flask_session",
    });
    assert.equal(shared.flask?.mode, "shared");
    assert.equal(shared.flask?.cookieName, "flask_session");
    assert.throws(
      () => loadConfig({ SESSION_SECRET: secret, FLASK_SECRET_KEY: "k", FLASK_SESSION_MODE: "x" }),
      (e: unknown) => e instanceof ConfigError && e.variable === "FLASK_SESSION_MODE",
    );
    assert.throws(
      () => loadConfig({ SESSION_SECRET: secret, FLASK_SESSION_MODE: "shared" }),
      (e: unknown) => e instanceof ConfigError && e.variable === "FLASK_SECRET_KEY",
    );
  });

  await t.step("with fallbacks after the secret, newest first", () => {
    const config = loadConfig({
      SESSION_SECRET: secret,
      SESSION_SECRET_FALLBACKS: ` ${older} , ${secret.toUpperCase()},`,
      SESSION_MAX_AGE: "3600",
      PORT: "0",
      HOSTNAME: "127.0.0.1",
    });
    assert.deepEqual(config.secrets, [secret, older, secret.toUpperCase()]);
    assert.equal(config.maxAge, 3600);
    assert.equal(config.port, 0);
    assert.equal(config.hostname, "127.0.0.1");
  });

  await t.step("refusing to start without SESSION_SECRET, saying how to make one", () => {
    for (const env of [{}, { SESSION_SECRET: "" }, { SESSION_SECRET: "   " }]) {
      assert.throws(() => loadConfig(env), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.variable, "SESSION_SECRET");
        assert.match(error.message, /SESSION_SECRET is not set/);
        assert.match(error.message, /openssl rand -base64 32/);
        assert.match(error.message, /crypto\.randomUUID\(\)\+crypto\.randomUUID\(\)/);
        return true;
      });
    }
  });

  await t.step("generating a throw-away secret in dev mode", () => {
    const a = loadConfig({}, { dev: true });
    const b = loadConfig({}, { dev: true });
    assert.equal(a.ephemeralSecret, true);
    assert.ok(new TextEncoder().encode(a.secrets[0]).length >= 32);
    assert.notEqual(a.secrets[0], b.secrets[0]);
  });

  await t.step("ignoring dev mode on Deno Deploy", () => {
    assert.throws(
      () => loadConfig({ DENO_DEPLOYMENT_ID: "abc123" }, { dev: true }),
      /SESSION_SECRET is not set \(required on Deno Deploy\)/,
    );
  });

  await t.step("naming the variable of a bad value", () => {
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ SESSION_SECRET: "too short" }, "SESSION_SECRET", /at least 32 bytes, received 9/],
      [
        { SESSION_SECRET: secret, SESSION_SECRET_FALLBACKS: `${older},short` },
        "SESSION_SECRET_FALLBACKS (entry 2)",
        /at least 32 bytes, received 5/,
      ],
      [{ SESSION_SECRET: secret, SESSION_MAX_AGE: "two weeks" }, "SESSION_MAX_AGE", /"two weeks"/],
      [{ SESSION_SECRET: secret, SESSION_MAX_AGE: "0" }, "SESSION_MAX_AGE", /greater than 0/],
      [{ SESSION_SECRET: secret, SESSION_MAX_AGE: "1.5" }, "SESSION_MAX_AGE", /whole number/],
      [{ SESSION_SECRET: secret, PORT: "http" }, "PORT", /"http"/],
      [{ SESSION_SECRET: secret, PORT: "70000" }, "PORT", /0 to 65535/],
    ];
    // loadConfig() parses; what the session library refuses, buildApp() names by its variable.
    for (const [env, variable, message] of cases) {
      assert.throws(() => buildApp(loadConfig(env)), (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(error.variable, variable);
        assert.ok(error.message.includes(variable), error.message);
        assert.match(error.message, message);
        return true;
      });
    }
  });

  await t.step("detecting dev mode from --dev or SEALED_DEV=1", () => {
    assert.equal(isDevMode(["--dev"], {}), true);
    assert.equal(isDevMode([], { SEALED_DEV: "1" }), true);
    assert.equal(isDevMode([], {}), false);
    assert.equal(isDevMode([], { SEALED_DEV: "0" }), false);
  });
});
