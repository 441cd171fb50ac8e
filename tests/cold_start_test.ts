/**
 * What a cold start loads and does: the service's start path leaves out what its configuration
 * does not use, and a sealer made where loading `node:crypto` is costly starts on Web Crypto and
 * moves to `node:crypto` without changing a byte of what it seals. Each check runs in a fresh
 * process, since module state (what is loaded) is what it is about. How fast a start is, is
 * measured by `deno task bench:cold`, not here.
 */

import assert from "node:assert/strict";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** Runs TypeScript in a fresh `deno eval` at the project root; returns its stdout. */
async function evalFresh(code: string): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, `deno eval failed: ${stderr}`);
  return new TextDecoder().decode(output.stdout);
}

/** The modules `main.ts` loads before it runs, following static imports only. */
async function staticGraph(entry: string): Promise<string[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  type Dependency = { code?: { specifier: string }; isDynamic?: boolean };
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    roots: string[];
    modules: { specifier: string; dependencies?: Dependency[] }[];
  };
  const bySpecifier = new Map(info.modules.map((module) => [module.specifier, module]));
  const seen = new Set<string>();
  const stack = [...info.roots];
  while (stack.length > 0) {
    const specifier = stack.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dependency of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (dependency.code && !dependency.isDynamic) stack.push(dependency.code.specifier);
    }
  }
  return [...seen].map((specifier) => specifier.replace(`file://${ROOT}`, ""));
}

Deno.test("the service's start path statically imports neither the Flask codec nor the KV layers", async () => {
  const graph = await staticGraph("main.ts");
  // The app itself is there: the check reads the right graph.
  assert.ok(graph.includes("routes/app.tsx"), graph.join("\n"));
  assert.ok(graph.includes("lib/session/middleware.ts"), graph.join("\n"));
  const configuredOnly = graph.filter((path) =>
    path.startsWith("lib/kv/") || path === "lib/flask/mod.ts" || path === "lib/flask/codec.ts"
  );
  assert.deepEqual(configuredOnly, []);
});

Deno.test("a KV-mode and a Flask-mode service still load their layers when configured", async () => {
  const out = await evalFresh(`
    import { serverSideOptions } from "./routes/server_side.ts";
    import { createApp } from "./routes/app.tsx";
    const { session, kv } = await serverSideOptions({
      kv: ":memory:",
      store: true,
      flask: { mode: "migrate", secretKeys: ["flask key"], cookieName: "session" },
    });
    const app = createApp({ secrets: ["a secret of at least thirty-two bytes!"], session });
    const res = await app.request("/greeting", {
      method: "POST",
      headers: { accept: "text/plain" },
      body: new URLSearchParams({ name: "Ada", lastname: "Lovelace" }),
    });
    console.log(JSON.stringify({
      revocation: typeof session.revocation?.isRevoked,
      store: typeof session.store?.load,
      status: res.status,
      text: await res.text(),
    }));
    kv?.close();
  `);
  assert.deepEqual(JSON.parse(out), {
    revocation: "function",
    store: "function",
    status: 200,
    text: "Hello Ada Lovelace",
  });
});

Deno.test("a sealer made before node:crypto is loaded seals the same bytes before and after it switches", async () => {
  const out = await evalFresh(`
    import { createSealer } from "./lib/seal.ts";
    const SECRET = "a secret of at least thirty-two bytes!";
    const now = Math.floor(Date.now() / 1000);
    const record = (name: string) => ({
      id: crypto.getRandomValues(new Uint8Array(16)),
      issuedAt: now,
      expiresAt: now + 3600,
      idleExpiresAt: 0,
      data: { name },
    });
    const sealer = await createSealer({ secrets: [SECRET] });
    const syncAtFirst = sealer.sync;
    const before = await sealer.seal(record("before"), "session");
    const openedBefore = (await sealer.open(before, "session")).data.name;
    // The switch happens in the background, shortly after the first message.
    const deadline = Date.now() + 5_000;
    while (!sealer.sync && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const syncLater = sealer.sync;
    const after = sealer.sealSync(record("after"), "session");
    const web = await createSealer({ secrets: [SECRET], backend: "webcrypto" });
    console.log(JSON.stringify({
      deno: Deno.version.deno,
      syncAtFirst,
      syncLater,
      openedBefore,
      beforeOpensSync: sealer.openSync(before, "session").data.name,
      afterOpensOnWebCrypto: (await web.open(after, "session")).data.name,
      webOpensBefore: (await web.open(before, "session")).data.name,
    }));
  `);
  const result = JSON.parse(out);
  const [major, minor] = String(result.deno).split(".").map(Number);
  // Deno 2.9+ loads Node built-ins on first use, at a cost: the sealer starts on Web Crypto.
  // Elsewhere node:crypto is there from the start.
  const lazy = major! > 2 || (major === 2 && minor! >= 9);
  assert.equal(result.syncAtFirst, !lazy);
  assert.equal(result.syncLater, true);
  assert.equal(result.openedBefore, "before");
  assert.equal(result.beforeOpensSync, "before");
  assert.equal(result.afterOpensOnWebCrypto, "after");
  assert.equal(result.webOpensBefore, "before");
});

Deno.test("a sealer still waiting for node:crypto seals and opens synchronously when asked", async () => {
  const out = await evalFresh(`
    import { createSealer } from "./lib/seal.ts";
    const SECRET = "a secret of at least thirty-two bytes!";
    const now = Math.floor(Date.now() / 1000);
    const sealer = await createSealer({ secrets: [SECRET, "an older secret of thirty-two bytes!!"] });
    const value = sealer.sealSync({
      id: new Uint8Array(16),
      issuedAt: now,
      expiresAt: now + 60,
      idleExpiresAt: 0,
      data: { name: "Ada" },
    }, "session");
    console.log(JSON.stringify({
      sync: sealer.sync,
      name: sealer.openSync(value, "session").data.name,
    }));
  `);
  assert.deepEqual(JSON.parse(out), { sync: true, name: "Ada" });
});

Deno.test("rendering the service's pages makes no Hono JSX node", async () => {
  const pages = await import("../routes/pages.tsx");
  const rendered = [
    pages.HomePage({ greeting: { name: "Ada", lastname: "Lovelace" } }),
    pages.HomePage({ values: { name: "<b>" }, errors: { name: "is required" } }),
    pages.GreetingPage({ greeting: { name: "Ada", lastname: "Lovelace" } }),
    pages.SessionDataPage({ greeting: { name: "Ada" } }),
    pages.MessagePage({ title: "Page not found", messages: ["There is nothing here."] }),
  ];
  for (const page of rendered) {
    // A ready-made escaped string (Hono's raw String), never a node rendered on toString().
    assert.ok(page instanceof String, `not a string: ${page?.constructor?.name}`);
    assert.match(String(page), /^<!DOCTYPE html><html lang="en">/);
  }
  assert.match(String(rendered[1]), /value="&lt;b&gt;"/);
});
