/**
 * A session the library accepts passes the proxies people run. With the default
 * `maxCookieBytes`, the largest session `set()` accepts, sent with 1 KiB of the site's other
 * cookies, goes through real nginx and haproxy with their stock header limits (and through
 * `deploy/haproxy.cfg`); one byte more is refused by `set()` itself, before any proxy could
 * lock the visitor out. A larger budget needs the proxy settings docs/library.md gives, and
 * those are checked here too.
 *
 * Needs nginx and haproxy (`.ci/run` installs both); each test is skipped, visibly, without.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { session, type SessionEnv, SessionTooLargeError } from "../lib/mod.ts";
import { PROXIES, startProxy } from "./_proxy.ts";
import { ROOT } from "./_server.ts";

const SECRET = "proxy limits test secret, 32 bytes or more";
/** A larger budget, and the proxy settings docs/library.md gives for it. */
const LARGER_BUDGET = 14_336;
const NGINX_LARGER = "large_client_header_buffers 4 16k;";
const HAPROXY_LARGER = "tune.bufsize 32768";
/** The site's other cookies: 1 KiB of them, as the default budget leaves room for. */
const OTHER_COOKIES = `site=${"o".repeat(1019)}`;
/** An app on a free port whose `POST /fill` stores the largest note the session accepts. */
function startApp(maxCookieBytes?: number) {
  const app = new Hono<SessionEnv<{ note: string }>>();
  app.get("/healthz", (c) => c.text("ok"));
  app.use(
    session<{ note: string }>({ secrets: [SECRET], ...(maxCookieBytes ? { maxCookieBytes } : {}) }),
  );
  app.post("/fill", (c) => {
    const s = c.get("session");
    // The largest note set() accepts: it throws, naming the budget, for anything larger.
    let low = 0;
    let high = 100_000;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      try {
        s.set("note", "n".repeat(mid));
        low = mid;
      } catch (error) {
        if (!(error instanceof SessionTooLargeError)) throw error;
        high = mid - 1;
      }
    }
    s.set("note", "n".repeat(low));
    return c.json(low);
  });
  app.get("/note", (c) => c.json(c.get("session").get("note")?.length ?? 0));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  return { server, port: server.addr.port };
}

const nginxConfig = (backend: number, extra = "") => (listen: number) => `
error_log stderr error;
pid nginx.pid;
events {}
http {
  access_log off;
  ${extra}
  server {
    listen 127.0.0.1:${listen};
    location / { proxy_pass http://127.0.0.1:${backend}; }
  }
}`;

const haproxyConfig = (backend: number, global = "") => (listen: number) => `
global
  ${global}
defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
frontend web
  bind 127.0.0.1:${listen}
  default_backend app
backend app
  server app1 127.0.0.1:${backend}
`;

/** deploy/haproxy.cfg itself, its three instances all this one app. */
const deployedHaproxy = (backend: number) => (listen: number) =>
  Deno.readTextFileSync(`${ROOT}deploy/haproxy.cfg`)
    .replace('"${LISTEN}"', `127.0.0.1:${listen}`)
    .replace(/"\$\{APP\d\}"/g, `127.0.0.1:${backend}`);

/** The session cookies of the largest session, and what a browser then sends. */
async function largestSession(port: number): Promise<{ cookie: string; note: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/fill`, { method: "POST" });
  const note = await res.json() as number;
  const cookie = res.headers.getSetCookie().map((h) => h.split(";")[0]).join("; ");
  return { cookie: `${OTHER_COOKIES}; ${cookie}`, note };
}

async function readThrough(port: number, cookie: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/note`, { headers: { cookie } });
  return `${res.status} ${await res.text()}`;
}

Deno.test({
  name:
    "the default budget's largest session, with 1 KiB of other cookies, passes nginx and haproxy with stock limits",
  ignore: !PROXIES.nginx || !PROXIES.haproxy,
  async fn(t) {
    const app = startApp();
    try {
      const { cookie, note } = await largestSession(app.port);
      assert.ok(note > 4000, `a note of ${note} characters`);
      assert.ok(new TextEncoder().encode(cookie).length > 7000, "a Cookie header of over 7 KB");
      for (
        const [label, kind, config] of [
          ["nginx, stock large_client_header_buffers (4 8k)", "nginx", nginxConfig(app.port)],
          ["haproxy, stock tune.bufsize (16 KiB)", "haproxy", haproxyConfig(app.port)],
          ["haproxy with deploy/haproxy.cfg", "haproxy", deployedHaproxy(app.port)],
        ] as const
      ) {
        await t.step(label, async () => {
          const proxy = await startProxy(kind, config);
          try {
            assert.equal(await readThrough(proxy.port, cookie), `200 ${note}`);
          } finally {
            await proxy.stop();
          }
        });
      }
    } finally {
      await app.server.shutdown();
    }
  },
});

Deno.test({
  name:
    "a larger budget needs the proxy settings docs/library.md gives: stock limits refuse it, those pass it",
  ignore: !PROXIES.nginx || !PROXIES.haproxy,
  async fn(t) {
    const app = startApp(LARGER_BUDGET);
    try {
      const { cookie, note } = await largestSession(app.port);
      await t.step(
        "nginx: 400 with the stock limits, 200 with large_client_header_buffers 4 16k",
        async () => {
          const stock = await startProxy("nginx", nginxConfig(app.port));
          try {
            assert.match(await readThrough(stock.port, cookie), /^400 /);
          } finally {
            await stock.stop();
          }
          const raised = await startProxy(
            "nginx",
            nginxConfig(app.port, NGINX_LARGER),
          );
          try {
            assert.equal(await readThrough(raised.port, cookie), `200 ${note}`);
          } finally {
            await raised.stop();
          }
        },
      );
      await t.step("haproxy: 200 with tune.bufsize 32768", async () => {
        const raised = await startProxy("haproxy", haproxyConfig(app.port, HAPROXY_LARGER));
        try {
          assert.equal(await readThrough(raised.port, cookie), `200 ${note}`);
        } finally {
          await raised.stop();
        }
      });
    } finally {
      await app.server.shutdown();
    }
  },
});

Deno.test("docs/library.md gives the budget and the proxy settings this file tests", async () => {
  const doc = await Deno.readTextFile(`${ROOT}docs/library.md`);
  for (const text of [`maxCookieBytes: ${LARGER_BUDGET}`, NGINX_LARGER, HAPROXY_LARGER]) {
    assert.ok(doc.includes(text), `docs/library.md does not say ${text}`);
  }
});
