/**
 * The README's example app (`examples/`): the README shows `app.ts` as it is, the README or
 * docs/ show every other file of the folder as it is, and the app counts visits, logs in and out
 * through `app.request()`. `deno task test:runtimes` serves it on every runtime from the packed npm
 * package.
 */

import assert from "node:assert/strict";
import { CookieJar } from "./_cookie_jar.ts";
import { createApp } from "../examples/app.ts";
import { kvRevocation } from "../lib/kv/mod.ts";

const ROOT = new URL("../", import.meta.url);

/** README.md, then every docs/*.md: where the files of examples/ must be shown. */
async function documents(): Promise<Map<string, string>> {
  const texts = new Map([["README.md", await Deno.readTextFile(new URL("README.md", ROOT))]]);
  for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
    if (!entry.isFile || !entry.name.endsWith(".md")) continue;
    texts.set(`docs/${entry.name}`, await Deno.readTextFile(new URL(`docs/${entry.name}`, ROOT)));
  }
  return texts;
}

/** Whether a Markdown text holds a file as one fenced TypeScript block, verbatim. */
function shows(markdown: string, source: string): boolean {
  // Four backticks when the file itself holds a fence (app.ts has one in its documentation).
  return ["```", "````"].some((fence) => markdown.includes(`${fence}ts\n${source}${fence}`));
}

Deno.test("the README shows examples/app.ts as it is", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const source = await Deno.readTextFile(new URL("examples/app.ts", ROOT));
  assert.ok(shows(readme, source), "README.md lacks examples/app.ts, verbatim");
});

Deno.test("the README or docs/ show every file of examples/ as it is", async () => {
  const texts = await documents();
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL("examples/", ROOT))) {
    if (entry.isFile) files.push(entry.name);
  }
  assert.ok(files.length >= 5, `examples/ holds ${files.join(", ")}`);
  for (const file of files.sort()) {
    const source = await Deno.readTextFile(new URL(`examples/${file}`, ROOT));
    const where = [...texts].filter(([, text]) => shows(text, source)).map(([name]) => name);
    assert.ok(where.length > 0, `neither README.md nor docs/ shows examples/${file} verbatim`);
  }
});

Deno.test("the example app counts visits, greets after login and forgets after logout", async () => {
  const app = createApp("an example secret of at least 32 bytes");
  const jar = new CookieJar();
  const get = async (path: string, method = "GET") => {
    const headers = jar.header ? { cookie: jar.header } : undefined;
    const res = await app.request(path, { method, headers });
    jar.store(res);
    return res;
  };
  assert.equal(await (await get("/")).text(), "Hello stranger, visit 1");
  assert.equal(await (await get("/")).text(), "Hello stranger, visit 2");
  assert.equal((await get("/login/Ada", "POST")).status, 303);
  assert.equal(await (await get("/")).text(), "Welcome! Hello Ada, visit 3");
  assert.equal(await (await get("/")).text(), "Hello Ada, visit 4");
  assert.equal((await get("/logout", "POST")).status, 303);
  assert.deepEqual(jar.names, []);
  assert.equal(await (await get("/")).text(), "Hello stranger, visit 1");
});

Deno.test("the example app with a revocation list signs a user out of every browser, or of every other one", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const app = createApp("an example secret of at least 32 bytes", kvRevocation(kv));
    const browser = () => {
      const jar = new CookieJar();
      return async (path: string, method = "GET") => {
        const headers = jar.header ? { cookie: jar.header } : undefined;
        const res = await app.request(path, { method, headers });
        jar.store(res);
        return res;
      };
    };
    const [laptop, phone, other] = [browser(), browser(), browser()];
    await laptop("/login/Ada", "POST");
    await phone("/login/Ada", "POST");
    await other("/login/Grace", "POST");
    assert.match(await (await phone("/")).text(), /Hello Ada/);
    assert.equal((await laptop("/logout-others", "POST")).status, 303);
    assert.match(await (await phone("/")).text(), /Hello stranger/);
    assert.match(await (await laptop("/")).text(), /Hello Ada/, "this device stays signed in");
    await phone("/login/Ada", "POST");
    assert.equal((await laptop("/logout-everywhere", "POST")).status, 303);
    assert.match(await (await phone("/")).text(), /Hello stranger/);
    assert.match(await (await laptop("/")).text(), /Hello stranger/);
    assert.match(await (await other("/")).text(), /Hello Grace/);
  } finally {
    kv.close();
  }
});
