/**
 * The real Flask tutorial app (`tests/flask_app/app.py`) next to our service: a Flask session
 * moves over (`migrate`) or is shared both ways (`shared`). Runs against every Python on this
 * machine that has Flask (Debian's python3-flask, and any other python3 on PATH).
 */

import assert from "node:assert/strict";
import { CookieJar } from "./_cookie_jar.ts";
import { ROOT, startServer } from "./_server.ts";

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

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Starts the Flask app on a free 127.0.0.1 port; stop it with the returned function. */
async function startFlask(python: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = freePort();
  const child = new Deno.Command(python, {
    args: [`${ROOT}tests/flask_app/app.py`, String(port)],
    env: { FLASK_SECRET_KEY: FLASK_KEY },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
  };
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`${url}/session-data`);
      await res.body?.cancel();
      if (res.ok) return { url, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop();
  throw new Error("The Flask app did not start within 10 s");
}

function greeting(name: string, lastname: string): RequestInit {
  return { method: "POST", body: new URLSearchParams({ name, lastname }), headers: PLAIN };
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
}
