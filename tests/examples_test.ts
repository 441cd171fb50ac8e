/**
 * The README's example app (`examples/`): the README shows each file as it is, and the app
 * counts visits, logs in and out through `app.request()`. `deno task test:runtimes` serves it on
 * every runtime from the packed npm package.
 */

import assert from "node:assert/strict";
import { CookieJar } from "./_cookie_jar.ts";
import { createApp } from "../examples/app.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("the README shows every file of examples/ as it is", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  for (const file of ["app.ts", "deno.ts", "node.ts", "bun.ts", "worker.ts"]) {
    const source = await Deno.readTextFile(new URL(`examples/${file}`, ROOT));
    assert.ok(readme.includes("```ts\n" + source + "```"), `README.md lacks examples/${file}`);
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
