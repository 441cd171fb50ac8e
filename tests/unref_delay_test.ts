import assert from "node:assert/strict";
import { unrefDelay } from "../lib/common/unref_delay.ts";
import { evalFresh } from "./_server.ts";

Deno.test("unrefDelay resolves once the time asked for has passed", async () => {
  const start = performance.now();
  const waited = unrefDelay(50).then(() => performance.now() - start);
  // This test's own timer keeps the process running meanwhile.
  await new Promise((resolve) => setTimeout(resolve, 200));
  // Timers may fire up to a millisecond early on the clock read here.
  assert.ok(await waited >= 49, `resolved after ${await waited} ms`);
});

Deno.test("unrefDelay never keeps a process alive: a script waiting on nothing else ends first", async () => {
  const script = `
    import { unrefDelay } from "./lib/common/unref_delay.ts";
    const start = Date.now();
    unrefDelay(20_000).then(() => console.log("resolved"));
    globalThis.addEventListener("unload", () => console.log(Date.now() - start));
  `;
  const out = await evalFresh(script);
  const lines = out.trim().split("\n");
  assert.equal(lines.length, 1, `expected only the exit time, got ${lines}`);
  assert.ok(Number(lines[0]) < 20_000, `ended after ${lines[0]} ms`);
});
