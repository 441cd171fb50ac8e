/**
 * The production set-up of the README, on real processes: haproxy with `deploy/haproxy.cfg`
 * (that very file) in front of three instances of `main.ts`, all on 127.0.0.1. It checks what
 * the README claims: slow-header clients are cut by the proxy (and are not by `Deno.serve`
 * alone), and an instance stopped with SIGTERM costs no request.
 *
 * Needs haproxy (`apt-get install haproxy`, as `.ci/run` does); skipped, visibly, without it.
 */

import assert from "node:assert/strict";
import { CookieJar } from "./_cookie_jar.ts";
import { ROOT, type RunningServer, startServer } from "./_server.ts";

const HAPROXY = ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"].find(
  (path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  },
);
const SKIP = HAPROXY ? "" : " (skipped: haproxy is not installed)";
const SECRET = "proxy-test-secret-of-at-least-32-bytes!!";
/** `timeout http-request` in deploy/haproxy.cfg, in milliseconds. */
const HEADER_TIMEOUT_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** haproxy with deploy/haproxy.cfg on a free loopback port, in front of `servers`. */
async function startHaproxy(servers: readonly RunningServer[]) {
  const port = freePort();
  const env: Record<string, string> = { LISTEN: `127.0.0.1:${port}` };
  servers.forEach((server, i) => (env[`APP${i + 1}`] = new URL(server.url).host));
  const child = new Deno.Command(HAPROXY!, {
    args: ["-db", "-f", `${ROOT}deploy/haproxy.cfg`],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    await stderr;
  };
  // Ready once it accepts connections and a request goes through.
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0;; i++) {
    try {
      const res = await fetch(`${url}/healthz`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (i > 100) {
      await stop();
      throw new Error(`haproxy did not start:\n${await stderr}`);
    }
    await sleep(50);
  }
  return { url, port, stop };
}

/** Opens a connection, sends the start of a request's headers, and never finishes them. */
async function slowHeaders(port: number): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode("GET /session-data HTTP/1.1\r\nHost: x\r\nX-Slow: "));
  return conn;
}

/** What the server did with the connection within `ms`: its answer, "closed", or "open". */
async function fate(conn: Deno.Conn, ms: number): Promise<string> {
  const buffer = new Uint8Array(4096);
  let open = true;
  const timer = setTimeout(() => {
    open = false;
    conn.close();
  }, ms);
  try {
    const n = await conn.read(buffer);
    if (n === null) return "closed";
    return new TextDecoder().decode(buffer.subarray(0, n)).split("\r\n")[0]!;
  } catch {
    return "open";
  } finally {
    clearTimeout(timer);
    if (open) conn.close();
  }
}

Deno.test({
  name:
    `haproxy (deploy/haproxy.cfg) cuts a client whose headers are slow; Deno.serve alone does not${SKIP}`,
  ignore: !HAPROXY,
  async fn() {
    const server = await startServer({ env: { SESSION_SECRET: SECRET } });
    const servers = [server, server, server];
    const proxy = await startHaproxy(servers);
    try {
      const [proxied, direct] = await Promise.all([
        slowHeaders(proxy.port).then((conn) => fate(conn, HEADER_TIMEOUT_MS + 1_500)),
        slowHeaders(Number(new URL(server.url).port)).then((conn) =>
          fate(conn, HEADER_TIMEOUT_MS + 1_500)
        ),
      ]);
      assert.match(proxied, /^HTTP\/1\.[01] 408 /, "haproxy answers 408 Request Timeout");
      assert.equal(direct, "open", "Deno.serve still holds the connection");
    } finally {
      await proxy.stop();
      await server.stop();
    }
  },
});

Deno.test({
  name:
    `haproxy (deploy/haproxy.cfg) sends requests around an instance stopped with SIGTERM${SKIP}`,
  ignore: !HAPROXY,
  async fn() {
    const servers: RunningServer[] = [];
    let proxy: Awaited<ReturnType<typeof startHaproxy>> | undefined;
    try {
      for (let i = 0; i < 3; i++) {
        servers.push(await startServer({ env: { SESSION_SECRET: SECRET } }));
      }
      proxy = await startHaproxy(servers);
      const jar = new CookieJar();
      const login = await jar.fetch(`${proxy.url}/greeting`, {
        method: "POST",
        headers: { accept: "text/plain" },
        body: new URLSearchParams({ name: "Ada", lastname: "Lovelace" }),
      });
      assert.equal(await login.text(), "Hello Ada Lovelace");

      let answered = 0;
      const statuses = new Map<string, number>();
      const url = proxy.url;
      const reads = Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 100; i++) {
          const res = await fetch(`${url}/session-data`, {
            headers: { accept: "application/json", cookie: jar.header },
          });
          const body = await res.json().catch(() => null) as { name?: string } | null;
          const key = `${res.status} ${body?.name ?? "-"}`;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          answered++;
        }
      });
      while (answered < 100) await sleep(5);
      Deno.kill(servers[1]!.pid, "SIGTERM");
      assert.equal((await servers[1]!.exited).code, 0);
      await Promise.all(reads);
      assert.deepEqual(Object.fromEntries(statuses), { "200 Ada": 400 });
    } finally {
      await proxy?.stop();
      await Promise.all(servers.map((server) => server.stop()));
    }
  },
});
