/**
 * The real Flask tutorial app (`tests/flask_app/app.py`) next to our service: a Flask session
 * moves over (`migrate`) or is shared both ways (`shared`). Runs against every Python on this
 * machine that has Flask (Debian's python3-flask, and any other python3 on PATH).
 */

import assert from "node:assert/strict";
import { CookieJar } from "./_cookie_jar.ts";
import { ROOT, startOnFreePort, startServer } from "./_server.ts";

const SECRET = "flask interop test secret, 32 bytes or more";
const FLASK_KEY = "tutorial-secret-key";
const PLAIN = { accept: "text/plain" };

/** Pythons that can import flask, with Flask's version. */
async function pythonsWithFlask(): Promise<{ python: string; version: string }[]> {
  const found = new Map<string, { python: string; version: string }>();
  for (const python of ["/usr/bin/python3", "python3"]) {
    try {
      const out = await new Deno.Command(python, {
        args: [
          "-c",
          "import sys, importlib.metadata as m; print(sys.executable, m.version('flask'))",
        ],
        stdout: "piped",
        stderr: "null",
      }).output();
      if (!out.success) continue;
      const [executable, version] = new TextDecoder().decode(out.stdout).trim().split(" ");
      if (executable && version && !found.has(version)) found.set(version, { python, version });
    } catch {
      // Not installed.
    }
  }
  return [...found.values()];
}

const pythons = await pythonsWithFlask();
// Without Flask the tests are still registered, as ignored, so the report shows them skipped.
const ignore = pythons.length === 0;
const runs = ignore ? [{ python: "python3", version: "(not installed)" }] : pythons;
const skipped = ignore
  ? " (SKIPPED: needs Flask: apt-get install python3-flask; .ci/run installs it)"
  : "";
if (ignore) console.warn(`Flask interop tests${skipped}`);

/** How long the Flask app may take to serve, on a machine busy with other tests. */
const FLASK_START_MS = 30_000;

/**
 * Starts the Flask app on a free 127.0.0.1 port ({@linkcode startOnFreePort}); stop it with the
 * returned function.
 */
async function startFlask(python: string): Promise<{ url: string; stop: () => Promise<void> }> {
  return await startOnFreePort(async (port) => {
    const child = new Deno.Command(python, {
      args: [`${ROOT}tests/flask_app/app.py`, String(port)],
      env: { FLASK_SECRET_KEY: FLASK_KEY },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.output();
    let exited = false;
    child.status.then(() => (exited = true));
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      await output;
    };
    const deadline = Date.now() + FLASK_START_MS;
    while (!exited && Date.now() < deadline) {
      try {
        const res = await fetch(`${url}/session-data`);
        await res.body?.cancel();
        if (res.ok && !exited) return { url, stop };
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // Before it is stopped, which makes it exit too.
    const why = exited ? "exited" : `did not serve within ${FLASK_START_MS / 1000} s`;
    await stop();
    const { stdout, stderr } = await output;
    const printed = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    throw new Error(`The Flask app ${why} on port ${port}:\n${printed}`);
  });
}

function greeting(name: string, lastname: string, remember = false): RequestInit {
  const fields = new URLSearchParams({ name, lastname });
  if (remember) fields.set("remember", "on");
  return { method: "POST", body: fields, headers: PLAIN };
}

/** The attributes of a response's one `session` cookie, lower-case names to values. */
function sessionAttributes(res: Response, name = "session"): Map<string, string> {
  const headers = res.headers.getSetCookie().filter((h) => h.startsWith(`${name}=`));
  assert.equal(headers.length, 1, `one session cookie in ${res.headers.getSetCookie()}`);
  const attributes = new Map<string, string>();
  for (const part of headers[0]!.split(";").slice(1)) {
    const eq = part.indexOf("=");
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    attributes.set(name, eq < 0 ? "" : part.slice(eq + 1).trim());
  }
  return attributes;
}

async function text(res: Response): Promise<string> {
  assert.equal(res.status, 200);
  return await res.text();
}

for (const { python, version } of runs) {
  Deno.test(
    `migrate mode: a Flask ${version} session becomes a sealed session${skipped}`,
    { ignore },
    async () => {
      const flask = await startFlask(python);
      const ours = await startServer({
        env: { SESSION_SECRET: SECRET, FLASK_SECRET_KEY: FLASK_KEY, FLASK_SESSION_MODE: "migrate" },
      });
      try {
        const jar = new CookieJar();
        assert.equal(
          await text(await jar.fetch(`${flask.url}/greeting`, greeting("Ada", "Lovelace"))),
          "Hello Ada Lovelace",
        );
        const flaskCookie = jar.header;
        assert.match(flaskCookie, /^session=eyJ/, "Flask's signed, readable cookie");

        // Our service reads it, and replaces it with a sealed cookie of the same name.
        const res = await jar.fetch(`${ours.url}/session-data`, { headers: PLAIN });
        assert.equal(await text(res), "Session Data: Ada Lovelace");
        assert.notEqual(jar.header, flaskCookie);
        assert.doesNotMatch(jar.header, /\./, "a sealed value, not Flask's");
        assert.equal(
          await text(await jar.fetch(`${ours.url}/session-data`, { headers: PLAIN })),
          "Session Data: Ada Lovelace",
        );

        // A tampered Flask cookie is ignored like any invalid cookie.
        // The first signature character: the last one has unused bits that Flask ignores.
        const cut = flaskCookie.lastIndexOf(".") + 1;
        const flipped = flaskCookie[cut] === "A" ? "B" : "A";
        const tampered = flaskCookie.slice(0, cut) + flipped + flaskCookie.slice(cut + 1);
        const forged = await fetch(`${ours.url}/session-data`, {
          headers: { ...PLAIN, cookie: tampered },
        });
        assert.equal(await text(forged), "Session Data:  ");
      } finally {
        await ours.stop();
        await flask.stop();
      }
    },
  );

  Deno.test(
    `shared mode: Flask ${version} and our service read and write one session${skipped}`,
    { ignore },
    async () => {
      const flask = await startFlask(python);
      const ours = await startServer({
        env: { SESSION_SECRET: SECRET, FLASK_SECRET_KEY: FLASK_KEY, FLASK_SESSION_MODE: "shared" },
      });
      try {
        const jar = new CookieJar();
        await text(await jar.fetch(`${flask.url}/greeting`, greeting("Ada", "Lovelace")));
        assert.equal(
          await text(await jar.fetch(`${ours.url}/session-data`, { headers: PLAIN })),
          "Session Data: Ada Lovelace",
        );

        // A greeting posted to our service is read back by Flask.
        assert.equal(
          await text(await jar.fetch(`${ours.url}/greeting`, greeting("Grace", "Hopper"))),
          "Hello Grace Hopper",
        );
        assert.match(jar.header, /^session=eyJ/, "still Flask's cookie format");
        assert.equal(
          await text(await jar.fetch(`${flask.url}/session-data`)),
          "Session Data: Grace Hopper",
        );

        // Logging out here ends the session for Flask too.
        const logout = await jar.fetch(`${ours.url}/logout`, { method: "POST" });
        assert.equal(logout.status, 204);
        await logout.body?.cancel();
        assert.equal(await text(await jar.fetch(`${flask.url}/session-data`)), "Session Data:  ");
      } finally {
        await ours.stop();
        await flask.stop();
      }
    },
  );

  Deno.test(`migrate mode: a Flask ${version} session keeps its kind, permanent or not${skipped}`, {
    ignore,
  }, async (t) => {
    const flask = await startFlask(python);
    const ours = await startServer({
      env: { SESSION_SECRET: SECRET, FLASK_SECRET_KEY: FLASK_KEY, FLASK_SESSION_MODE: "migrate" },
    });
    try {
      for (const permanent of [false, true]) {
        await t.step(permanent ? "a permanent session" : "a non-permanent session", async () => {
          const jar = new CookieJar();
          const posted = await jar.fetch(`${flask.url}/greeting`, greeting("Ada", "L", permanent));
          assert.equal(await text(posted), "Hello Ada L");
          // Flask writes Expires for a permanent session only, and Max-Age never.
          const flaskCookie = sessionAttributes(posted);
          assert.equal(flaskCookie.has("expires"), permanent);
          assert.equal(flaskCookie.has("max-age"), false);

          const res = await jar.fetch(`${ours.url}/`);
          const page = await res.text();
          const sealed = sessionAttributes(res, "sealed");
          assert.equal(sealed.get("max-age"), permanent ? "1209600" : undefined);
          assert.equal(sealed.has("expires"), false);
          assert.match(
            page,
            permanent ? /This device remembers you/ : /forgotten when you close your browser/,
          );
          // `_permanent` became the cookie's kind and is no longer data.
          const data = await jar.fetch(`${ours.url}/session-data`, { headers: PLAIN });
          assert.equal(await text(data), "Session Data: Ada L");
        });
      }
    } finally {
      await ours.stop();
      await flask.stop();
    }
  });

  Deno.test(
    `shared mode: the service writes the Flask ${version} cookie as Flask would${skipped}`,
    { ignore },
    async (t) => {
      const flask = await startFlask(python);
      const ours = await startServer({
        env: { SESSION_SECRET: SECRET, FLASK_SECRET_KEY: FLASK_KEY, FLASK_SESSION_MODE: "shared" },
      });
      try {
        for (const permanent of [false, true]) {
          await t.step(
            permanent ? "Remember me: permanent" : "no Remember me: not permanent",
            async () => {
              // Flask's own cookie for the same greeting, to compare with.
              const flaskJar = new CookieJar();
              const flaskPosted = await flaskJar.fetch(
                `${flask.url}/greeting`,
                greeting("Ada", "L", permanent),
              );
              assert.equal(await text(flaskPosted), "Hello Ada L");
              const fromFlask = sessionAttributes(flaskPosted);

              const jar = new CookieJar();
              const posted = await jar.fetch(
                `${ours.url}/greeting`,
                greeting("Ada", "L", permanent),
              );
              assert.equal(await text(posted), "Hello Ada L");
              const fromUs = sessionAttributes(posted);
              assert.equal(fromUs.has("expires"), permanent);
              assert.equal(fromUs.has("max-age"), false);
              assert.equal(fromFlask.has("expires"), permanent);
              if (permanent) {
                const ourExpiry = Date.parse(fromUs.get("expires")!);
                const flaskExpiry = Date.parse(fromFlask.get("expires")!);
                assert.ok(
                  Math.abs(ourExpiry - flaskExpiry) <= 5_000,
                  `${ourExpiry} vs ${flaskExpiry}`,
                );
              }
              // Flask reads the session's kind from the cookie we wrote.
              assert.equal(
                await text(await jar.fetch(`${flask.url}/permanent`)),
                permanent ? "True" : "False",
              );
              assert.equal(
                await text(await jar.fetch(`${flask.url}/session-data`)),
                "Session Data: Ada L",
              );
            },
          );
        }
      } finally {
        await ours.stop();
        await flask.stop();
      }
    },
  );
}
