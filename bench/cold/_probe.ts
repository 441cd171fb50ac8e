/**
 * The breakdown of a start, run by `bench/cold.ts` in fresh processes. `start` (the default)
 * takes the service's own path: imports its module groups one after the other, timing each, then
 * the configuration, the app, and the first requests through `app.request()`. `parts` times the
 * pieces on their own: key derivation, seal and open over each backend, loading `node:crypto`,
 * the first page render, and the modules only some configurations load. Prints a
 * {@linkcode ProbeReport} as JSON.
 *
 * ```sh
 * SESSION_SECRET=… deno run -A bench/cold/_probe.ts [start|parts]
 * ```
 *
 * @module
 */

import type { ProbeOutput, ProbeReport, Step } from "./_probe_report.ts";

const report: ProbeReport = {};
const cpu: ProbeReport = {};

/** CPU time of the main thread (where JavaScript and module loading run), in ms (Linux). */
function threadCpu(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ", 1)[0]) / 1e6;
  } catch {
    return NaN;
  }
}

async function time<T>(step: Step, work: () => T | Promise<T>): Promise<T> {
  const cpuStart = threadCpu();
  const start = performance.now();
  const result = await work();
  report[step] = performance.now() - start;
  cpu[step] = threadCpu() - cpuStart;
  return result;
}

const SECRET = Deno.env.get("SESSION_SECRET") ?? "";
const now = Math.floor(Date.now() / 1000);
const record = (name: string) => ({
  id: crypto.getRandomValues(new Uint8Array(16)),
  issuedAt: now,
  expiresAt: now + 3600,
  idleExpiresAt: 0,
  data: { name, lastname: "Lovelace" },
});

async function start(): Promise<void> {
  const importsStart = performance.now();
  const importsCpu = threadCpu();
  await time("hono", () => import("hono"));
  await time("jsx", () => Promise.all([import("hono/jsx/jsx-runtime"), import("hono/html")]));
  await time("sessionCore", () => import("../../lib/middleware/middleware.ts"));
  const { loadConfig } = await time("config", () => import("../../routes/config.ts"));
  await time("pages", () => import("../../routes/pages.tsx"));
  const { createApp } = await time("app", () => import("../../routes/app.tsx"));
  await time("main", () => import("../../main.ts"));
  report.imports = performance.now() - importsStart;
  cpu.imports = threadCpu() - importsCpu;

  const config = await time(
    "loadConfig",
    () => loadConfig({ SESSION_SECRET: SECRET, HOSTNAME: "127.0.0.1" }),
  );
  const app = await time("createApp", () => createApp(config));
  const post = async () => {
    const response = await app.request("http://127.0.0.1/greeting", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" },
      body: "name=Ada&lastname=Lovelace",
    });
    await response.text();
    return response;
  };
  await time("firstHealthz", async () => await (await app.request("/healthz")).text());
  const posted = await time("firstPost", post);
  const cookie = posted.headers.getSetCookie().map((line) => line.split(";", 1)[0]).join("; ");
  await time("firstGet", async () => {
    const response = await app.request("http://127.0.0.1/session-data", {
      headers: { cookie, accept: "text/html" },
    });
    const body = await response.text();
    if (!body.includes("Lovelace")) throw new Error(`session not opened: ${body}`);
  });
  await time("secondPost", post);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await time("upgradedPost", post);
}

async function parts(): Promise<void> {
  const { createSealer } = await import("../../lib/sealing/sealer.ts");
  const web = await time(
    "webHkdf",
    () => createSealer({ secrets: [SECRET], backend: "webcrypto" }),
  );
  const secrets = [SECRET, `${SECRET} (old)`, `${SECRET} (older)`];
  await time("webHkdf3", () => createSealer({ secrets, backend: "webcrypto" }));
  const webSealed = await time("webSeal", () => web.seal(record("Ada"), "session"));
  await time("webOpen", () => web.open(webSealed, "session"));

  const { nodeCrypto } = await import("../../lib/cipher/node_crypto.ts");
  await time("nodeCrypto", () => nodeCrypto());
  const node = await time("nodeHkdf", () => createSealer({ secrets: [SECRET], backend: "node" }));
  const sealed = await time("nodeSeal", () => node.seal(record("Ada"), "session"));
  await time("nodeHkdf3", () => createSealer({ secrets, backend: "node" }));
  await time("nodeSecondSeal", () => node.seal(record("Grace"), "session"));
  await time("nodeOpen", () => node.open(sealed, "session"));

  const { GreetingPage } = await import("../../routes/pages.tsx");
  const greeting = { name: "Ada", lastname: "Lovelace" };
  await time("page", () => String(GreetingPage({ greeting })));
  await time("pageAgain", () => String(GreetingPage({ greeting })));

  await time("flask", () => import("../../lib/flask/mod.ts"));
  await time("kv", () => import("../../lib/kv/mod.ts"));
  const dir = await Deno.makeTempDir({ dir: ".data" });
  try {
    const kv = await time("openKv", () => Deno.openKv(`${dir}/probe.sqlite3`));
    kv.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

await (Deno.args[0] === "parts" ? parts() : start());
console.log(JSON.stringify({ wall: report, cpu } satisfies ProbeOutput));
