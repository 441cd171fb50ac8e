/**
 * What a cold start loads and does: the service's start path leaves out what its configuration
 * does not use, and a sealer made where loading `node:crypto` is costly starts on Web Crypto and
 * moves to `node:crypto` without changing a byte of what it seals. Each check runs in a fresh
 * process, since module state (what is loaded) is what it is about. How fast a start is, is
 * measured by `deno task bench:cold`, not here.
 */

import assert from "node:assert/strict";
import { evalFresh } from "./_server.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** Runs `deno ARGS` at the project root, which must succeed; returns its stdout. */
async function denoOutput(args: string[]): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, `deno ${args[0]} failed: ${stderr}`);
  return new TextDecoder().decode(output.stdout);
}

/** The modules `main.ts` loads before it runs, following static imports only. */
async function staticGraph(entry: string): Promise<string[]> {
  type Dependency = { code?: { specifier: string }; isDynamic?: boolean };
  const info = JSON.parse(await denoOutput(["info", "--json", entry])) as {
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
  assert.ok(graph.includes("lib/middleware/middleware.ts"), graph.join("\n"));
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

/**
 * A fresh process's preamble: the sealer (which opens at once with `openNow()` where the cipher
 * answers at once), a record maker, and a wait for the move to `node:crypto`.
 */
const SEALER_PREAMBLE = `
  import { createSealer } from "./lib/sealing/sealer.ts";
  const SECRET = "a secret of at least thirty-two bytes!";
  const now = Math.floor(Date.now() / 1000);
  const record = (name: string) => ({
    id: crypto.getRandomValues(new Uint8Array(16)),
    issuedAt: now,
    expiresAt: now + 3600,
    idleExpiresAt: 0,
    data: { name },
  });
  const waitForSync = async (sealer: { sync: boolean }) => {
    const deadline = Date.now() + 5_000;
    while (!sealer.sync && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };
`;

Deno.test("a sealer made before node:crypto is loaded seals the same bytes before and after it switches", async () => {
  const out = await evalFresh(`${SEALER_PREAMBLE}
    const sealer = await createSealer({ secrets: [SECRET] });
    const syncAtFirst = sealer.sync;
    const before = await sealer.seal(record("before"), "session");
    const openedBefore = (await sealer.open(before, "session")).data.name;
    // The switch happens in the background, shortly after the first message.
    await waitForSync(sealer);
    const syncLater = sealer.sync;
    const after = await sealer.seal(record("after"), "session");
    const web = await createSealer({ secrets: [SECRET], backend: "webcrypto" });
    console.log(JSON.stringify({
      deno: Deno.version.deno,
      syncAtFirst,
      syncLater,
      openedBefore,
      beforeOpensSync: sealer.openNow(before, "session").data.name,
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

Deno.test("a sealer made once node:crypto is loaded opens at once from the start", async () => {
  const out = await evalFresh(`${SEALER_PREAMBLE}
    const first = await createSealer({ secrets: [SECRET] });
    await first.seal(record("first"), "session");
    await waitForSync(first);
    const sealer = await createSealer({ secrets: [SECRET, "an older secret of thirty-two bytes!!"] });
    const value = await sealer.seal(record("Ada"), "session");
    console.log(JSON.stringify({
      sync: sealer.sync,
      name: sealer.openNow(value, "session").data.name,
    }));
  `);
  assert.deepEqual(JSON.parse(out), { sync: true, name: "Ada" });
});

Deno.test("messages in flight while a sealer switches to node:crypto finish with the bytes they began with", async () => {
  const out = await evalFresh(`${SEALER_PREAMBLE}
    const sealer = await createSealer({ secrets: [SECRET] });
    const first = await sealer.seal(record("first"), "session");
    // Many visitors at once: seals and opens started before the switch, some ending after it.
    const names = Array.from({ length: 200 }, (_, i) => "visitor " + i);
    const sealing = names.map((name) => sealer.seal(record(name), "session"));
    const opening = names.map(() => sealer.open(first, "session"));
    await waitForSync(sealer);
    const sealed = await Promise.all(sealing);
    const opened = await Promise.all(opening);
    console.log(JSON.stringify({
      sync: sealer.sync,
      // What was sealed before the switch opens after it, synchronously.
      reopened: sealed.every((value, i) => sealer.openNow(value, "session").data.name === names[i]),
      opened: opened.every((record) => record.data.name === "first"),
      distinct: new Set(sealed).size,
    }));
  `);
  assert.deepEqual(JSON.parse(out), { sync: true, reopened: true, opened: true, distinct: 200 });
});

Deno.test("sealers made concurrently before node:crypto is loaded all switch, each with its own keys", async () => {
  const out = await evalFresh(`${SEALER_PREAMBLE}
    const secrets = ["one", "two", "three"].map((n) => n + " secret of at least thirty-two bytes");
    const sealers = await Promise.all(secrets.map((secret) => createSealer({ secrets: [secret] })));
    const atFirst = sealers.map((sealer) => sealer.sync);
    const values = await Promise.all(sealers.map((sealer, i) => sealer.seal(record(String(i)), "s")));
    for (const sealer of sealers) await waitForSync(sealer);
    console.log(JSON.stringify({
      lazy: Number(Deno.version.deno.split(".")[1]) >= 9,
      atFirst,
      later: sealers.map((sealer) => sealer.sync),
      own: values.map((value, i) => sealers[i]!.openNow(value, "s").data.name),
      others: values.map((value, i) => {
        try {
          sealers[(i + 1) % 3]!.openNow(value, "s");
          return "opened";
        } catch (error) {
          return (error as { reason?: string }).reason;
        }
      }),
    }));
  `);
  const result = JSON.parse(out);
  assert.deepEqual(result.atFirst, [!result.lazy, !result.lazy, !result.lazy]);
  assert.deepEqual(result.later, [true, true, true]);
  assert.deepEqual(result.own, ["0", "1", "2"]);
  assert.deepEqual(result.others, ["unknown-key", "unknown-key", "unknown-key"]);
});

Deno.test("a sealer's pending switch to node:crypto never keeps a process alive", async () => {
  const out = await evalFresh(`${SEALER_PREAMBLE}
    const unused = await createSealer({ secrets: [SECRET] });
    const used = await createSealer({ secrets: ["another secret of at least thirty-two bytes"] });
    await used.seal(record("once"), "session");
    // Nothing else to do: the process ends now, before the background switch (if still
    // pending) would run.
    globalThis.addEventListener("unload", () => {
      console.log(JSON.stringify({ lazy: Number(Deno.version.deno.split(".")[1]) >= 9, unused: unused.sync, used: used.sync }));
    });
  `);
  const result = JSON.parse(out);
  // Where the switch waits (Deno 2.9+), its timer does not hold the event loop open: the
  // process exited with both sealers still on Web Crypto.
  assert.deepEqual(result, { lazy: result.lazy, unused: !result.lazy, used: !result.lazy });
});

Deno.test("a sealer goes on with Web Crypto, without an unhandled error, where node:crypto cannot load", async () => {
  const out = await evalFresh(`
    // A sandbox that refuses Node built-ins, set up before the library is loaded.
    Object.defineProperty(globalThis, "process", {
      value: { getBuiltinModule() { throw new Error("node built-ins are refused here"); } },
    });
    const { createSealer } = await import("./lib/sealing/sealer.ts");
    const now = Math.floor(Date.now() / 1000);
    const record = { id: new Uint8Array(16), issuedAt: now, expiresAt: now + 60, idleExpiresAt: 0, data: { name: "Ada" } };
    let unhandled = 0;
    globalThis.addEventListener("unhandledrejection", () => unhandled++);
    globalThis.addEventListener("error", () => unhandled++);
    const sealer = await createSealer({ secrets: ["a secret of at least thirty-two bytes!"] });
    const value = await sealer.seal(record, "session");
    // Past the moment the switch would have happened.
    await new Promise((r) => setTimeout(r, 300));
    // Asking for node:crypto outright is refused with a message, not a crash.
    let syncError = "";
    try {
      await createSealer({ secrets: ["a secret of at least thirty-two bytes!"], backend: "node" });
    } catch (error) {
      syncError = (error as Error).message;
    }
    console.log(JSON.stringify({
      lazy: Number(Deno.version.deno.split(".")[1]) >= 9,
      sync: sealer.sync,
      name: (await sealer.open(value, "session")).data.name,
      syncError,
      unhandled,
    }));
  `);
  const result = JSON.parse(out);
  assert.equal(result.sync, false);
  assert.equal(result.name, "Ada");
  assert.match(result.syncError, /^Cannot /);
  assert.equal(result.unhandled, 0);
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

Deno.test("importing the service and the library starts no timer, loop or clock", async () => {
  const out = await evalFresh(`
    let started = 0;
    const count = <T extends (...args: never[]) => unknown>(fn: T): T =>
      ((...args: Parameters<T>) => (started++, fn(...args))) as T;
    globalThis.setTimeout = count(globalThis.setTimeout);
    globalThis.setInterval = count(globalThis.setInterval);
    AbortSignal.timeout = count(AbortSignal.timeout);
    for await (const entry of Deno.readDir("./routes")) {
      await import("./routes/" + entry.name);
    }
    await import("./lib/mod.ts");
    await import("./main.ts");
    console.log(JSON.stringify({ started }));
  `);
  assert.deepEqual(JSON.parse(out), { started: 0 });
});
