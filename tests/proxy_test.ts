/**
 * The production set-ups of the docs, on real processes, all on 127.0.0.1: haproxy with
 * `deploy/haproxy.cfg` (that very file) in front of three instances of `main.ts`, and nginx with
 * the configuration block of docs/service.md (as written, but for its addresses) in front of
 * two. Each checks what the docs claim: a client whose headers are slow is cut by the proxy (and
 * is not by `Deno.serve` alone), and an instance stopped with SIGTERM costs no request.
 *
 * Needs haproxy and nginx (`.ci/run` installs both); each test is skipped, visibly, without.
 */

import assert from "node:assert/strict";
import { CookieJar } from "./_cookie_jar.ts";
import { PROXIES, type ProxyKind, type RunningProxy, startProxy } from "./_proxy.ts";
import { readResponse, ROOT, type RunningServer, startServer, startSlowPost } from "./_server.ts";

const SECRET = "proxy-test-secret-of-at-least-32-bytes!!";
/** `timeout http-request` in deploy/haproxy.cfg, `client_header_timeout` in the nginx block. */
const HEADER_TIMEOUT_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A proxy and its configuration from the docs, in front of instances of `main.ts`. */
interface SetUp {
  name: string;
  kind: ProxyKind;
  instances: number;
  start(servers: readonly RunningServer[]): Promise<RunningProxy>;
  /** How the proxy ends a request whose headers never finish, as {@linkcode fate} says it. */
  cutsSlowHeaders: RegExp;
}

const host = (server: RunningServer) => new URL(server.url).host;

const SET_UPS: readonly SetUp[] = [
  {
    name: "haproxy (deploy/haproxy.cfg)",
    kind: "haproxy",
    instances: 3,
    // The file as it is: haproxy reads the addresses from the environment.
    start: (servers) =>
      startProxy(
        "haproxy",
        () => Deno.readTextFileSync(`${ROOT}deploy/haproxy.cfg`),
        (port) => ({
          LISTEN: `127.0.0.1:${port}`,
          ...Object.fromEntries(servers.map((server, i) => [`APP${i + 1}`, host(server)])),
        }),
      ),
    cutsSlowHeaders: /^HTTP\/1\.[01] 408 /,
  },
  {
    name: "nginx (the block of docs/service.md)",
    kind: "nginx",
    instances: 2,
    start: (servers) => startProxy("nginx", (port) => nginxFromDocs(servers, port)),
    // nginx closes such a connection without an answer (it logs the 408).
    cutsSlowHeaders: /^closed$/,
  },
];

/**
 * The nginx block of docs/service.md, its upstream addresses those of `servers` and its TLS
 * listener a plain one on `port`, in the little a whole nginx configuration adds around it.
 */
function nginxFromDocs(servers: readonly RunningServer[], port: number): string {
  const blocks = [
    ...Deno.readTextFileSync(`${ROOT}docs/service.md`)
      .matchAll(/^```nginx\n([\s\S]*?)^```$/gm),
  ];
  assert.equal(blocks.length, 1, "docs/service.md shows one nginx configuration");
  let block = blocks[0]![1]!;
  const upstreams = block.match(/server 10\.0\.0\.\d+:8000;/g) ?? [];
  assert.equal(upstreams.length, servers.length, "one upstream server per instance");
  block = block.replace(
    /server 10\.0\.0\.(\d+):8000;/g,
    (_, n) => `server ${host(servers[n - 1]!)};`,
  );
  assert.match(block, /listen 443 ssl;/);
  block = block.replace("listen 443 ssl;", `listen 127.0.0.1:${port};`);
  return `error_log stderr error;\npid nginx.pid;\nevents {}\nhttp {\naccess_log off;\n${block}}\n`;
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

for (const setUp of SET_UPS) {
  const skip = PROXIES[setUp.kind] ? "" : ` (skipped: ${setUp.kind} is not installed)`;

  Deno.test({
    name: `${setUp.name} cuts a client whose headers are slow; Deno.serve alone does not${skip}`,
    ignore: !PROXIES[setUp.kind],
    async fn() {
      const server = await startServer({ env: { SESSION_SECRET: SECRET } });
      const proxy = await setUp.start(Array(setUp.instances).fill(server));
      try {
        const [proxied, direct] = await Promise.all([
          slowHeaders(proxy.port).then((conn) => fate(conn, HEADER_TIMEOUT_MS + 1_500)),
          slowHeaders(Number(new URL(server.url).port)).then((conn) =>
            fate(conn, HEADER_TIMEOUT_MS + 1_500)
          ),
        ]);
        assert.match(proxied, setUp.cutsSlowHeaders, "the proxy ends the request");
        assert.equal(direct, "open", "Deno.serve still holds the connection");
      } finally {
        await proxy.stop();
        await server.stop();
      }
    },
  });

  Deno.test({
    name: `${setUp.name} sends requests around an instance stopped with SIGTERM${skip}`,
    ignore: !PROXIES[setUp.kind],
    async fn() {
      const servers: RunningServer[] = [];
      let proxy: RunningProxy | undefined;
      try {
        for (let i = 0; i < setUp.instances; i++) {
          servers.push(await startServer({ env: { SESSION_SECRET: SECRET } }));
        }
        proxy = await setUp.start(servers);
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
        const count = (key: string) => {
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          answered++;
        };
        // Three visitors reading, one posting: a refused POST must be sent elsewhere too.
        const reads = Array.from({ length: 3 }, async () => {
          for (let i = 0; i < 100; i++) {
            const res = await fetch(`${url}/session-data`, {
              headers: { accept: "application/json", cookie: jar.header },
            });
            const body = await res.json().catch(() => null) as { name?: string } | null;
            count(`${res.status} ${body?.name ?? "-"}`);
          }
        });
        reads.push((async () => {
          for (let i = 0; i < 100; i++) {
            const res = await fetch(`${url}/greeting`, {
              method: "POST",
              headers: { accept: "text/plain", cookie: jar.header },
              body: new URLSearchParams({ name: "Ada", lastname: "Lovelace" }),
            });
            count(`${res.status} ${await res.text()}`);
          }
        })());
        while (answered < 100) await sleep(5);
        // An upload still arriving holds the stopped instance in its drain, where it answers
        // 503 to whatever the proxy sends it meanwhile: the proxy must send that elsewhere.
        const upload = await startSlowPost(Number(new URL(servers[1]!.url).port));
        await sleep(50);
        Deno.kill(servers[1]!.pid, "SIGTERM");
        while (answered < 300) await sleep(5);
        await upload.conn.write(new TextEncoder().encode(upload.rest));
        assert.match(await readResponse(upload.conn), /^HTTP\/1\.1 200 [\s\S]*Hello Ada Lovelace$/);
        upload.conn.close();
        assert.equal((await servers[1]!.exited).code, 0);
        await Promise.all(reads);
        assert.deepEqual(Object.fromEntries(statuses), {
          "200 Ada": 300,
          "200 Hello Ada Lovelace": 100,
        });
      } finally {
        await proxy?.stop();
        await Promise.all(servers.map((server) => server.stop()));
      }
    },
  });
}
