/**
 * `privateResponse()`: the service's fast-built `200` answers are the same as Hono's own
 * `c.json()`, `c.text()` and `c.html()` with the private headers, and stay mutable for the
 * session middleware and the security headers.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { PRIVATE_HEADERS } from "../routes/headers.ts";
import { privateResponse } from "../routes/responses.ts";

const BODIES = {
  json: JSON.stringify({ greeting: "Hello Ada & <Bob>" }),
  text: "Hello Ada & <Bob>",
  html: "<!doctype html><p>Hello Ada &amp; &lt;Bob&gt;</p>",
} as const;

async function honoAnswer(kind: keyof typeof BODIES): Promise<Response> {
  const app = new Hono();
  app.get("/", (c) => {
    if (kind === "json") return c.json(JSON.parse(BODIES.json), 200, PRIVATE_HEADERS);
    if (kind === "text") return c.text(BODIES.text, 200, PRIVATE_HEADERS);
    return c.html(BODIES.html, 200, PRIVATE_HEADERS);
  });
  return await app.request("/");
}

Deno.test("privateResponse() answers exactly as Hono's helpers with the private headers", async (t) => {
  for (const kind of ["json", "text", "html"] as const) {
    await t.step(`for ${kind}`, async () => {
      const ours = privateResponse(BODIES[kind], kind);
      const hono = await honoAnswer(kind);
      assert.equal(ours.status, hono.status);
      assert.deepEqual([...ours.headers], [...hono.headers]);
      assert.equal(await ours.text(), await hono.text());
    });
  }
});

Deno.test("privateResponse() headers can still be changed afterwards", () => {
  const response = privateResponse(BODIES.json, "json");
  response.headers.append("vary", "Cookie");
  response.headers.set("x-frame-options", "DENY");
  assert.equal(response.headers.get("vary"), "Accept, Cookie");
  assert.equal(response.headers.get("x-frame-options"), "DENY");
  assert.equal(response.headers.get("content-type"), "application/json");
});
