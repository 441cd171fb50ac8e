/**
 * The service's `200` answers showing session data, through `app.request()`: exactly the
 * headers each format carries (the content type, never cached, varying on `Accept` and
 * `Cookie`, the security headers) and nothing else, and the names in the pages escaped,
 * whatever they hold.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { securityHeaderList } from "../routes/headers.ts";
import { drainable } from "../routes/shutdown.ts";
import { cookieOf } from "./_cookie_jar.ts";
import { adaCookie, app, BROWSER_ACCEPT, form, postGreeting, postJson } from "./_app.ts";

const FORMATS = {
  json: { accept: "application/json", type: "application/json" },
  text: { accept: "text/plain", type: "text/plain; charset=UTF-8" },
  html: { accept: BROWSER_ACCEPT, type: "text/html; charset=UTF-8" },
} as const;

const SECURITY_HEADERS = await securityHeaderList();

/** The headers every answer with session data carries, for a content type. */
function expectedHeaders(type: string): [string, string][] {
  return [
    ...SECURITY_HEADERS,
    ["cache-control", "no-store"],
    ["content-type", type],
    ["vary", "Accept, Cookie"],
  ].sort(([a], [b]) => a!.localeCompare(b!)) as [string, string][];
}

// What the service promises, written out: a new Hono default must not change it unnoticed.
const SECURITY_HEADER_VALUES: [string, string][] = [
  [
    "content-security-policy",
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'",
  ],
  ["cross-origin-opener-policy", "same-origin"],
  ["cross-origin-resource-policy", "same-origin"],
  ["origin-agent-cluster", "?1"],
  ["referrer-policy", "same-origin"],
  ["strict-transport-security", "max-age=15552000; includeSubDomains"],
  ["x-content-type-options", "nosniff"],
  ["x-dns-prefetch-control", "off"],
  ["x-download-options", "noopen"],
  ["x-frame-options", "DENY"],
  ["x-permitted-cross-domain-policies", "none"],
  ["x-xss-protection", "0"],
];

Deno.test("every response carries the twelve security headers, the drain's 503 too", async () => {
  assert.deepEqual([...SECURITY_HEADERS], SECURITY_HEADER_VALUES);
  const names = new Set(SECURITY_HEADER_VALUES.map(([name]) => name));
  for (const path of ["/healthz", "/style.css", "/nowhere"]) {
    const res = await app.request(path);
    await res.body?.cancel();
    assert.deepEqual([...res.headers].filter(([name]) => names.has(name)), SECURITY_HEADER_VALUES);
  }
  const service = drainable(app.fetch);
  await service.drain(1000);
  const info = {} as Deno.ServeHandlerInfo<Deno.NetAddr>;
  const refused = await service.fetch(new Request("http://localhost/healthz"), info);
  await refused.body?.cancel();
  assert.equal(refused.status, 503);
  assert.deepEqual(
    [...refused.headers].filter(([name]) => names.has(name)),
    SECURITY_HEADER_VALUES,
  );
});

function headersBut(res: Response, left: string): [string, string][] {
  return [...res.headers].filter(([name]) => name !== left);
}

Deno.test("GET /session-data answers each format with exactly the private and security headers", async (t) => {
  const cookie = await adaCookie(app);
  for (const [format, { accept, type }] of Object.entries(FORMATS)) {
    await t.step(format, async () => {
      const res = await app.request("/session-data", { headers: { cookie, accept } });
      assert.equal(res.status, 200);
      assert.deepEqual([...res.headers], expectedHeaders(type));
      assert.match(await res.text(), /Ada/);
    });
  }
});

Deno.test("POST /greeting answers each format with exactly the private and security headers, and its cookie", async (t) => {
  for (const [format, { accept, type }] of Object.entries(FORMATS)) {
    await t.step(format, async () => {
      const res = await postGreeting(app, form({ name: "Ada", lastname: "Lovelace" }), {
        accept,
      });
      assert.equal(res.status, 200);
      assert.deepEqual(headersBut(res, "set-cookie"), expectedHeaders(type));
      assert.equal(res.headers.getSetCookie().length, 1);
      assert.match(await res.text(), /Hello Ada Lovelace/);
    });
  }
});

// Names as a visitor could send them, markup and quotes included, and as the service keeps them:
// trimmed, without control characters.
const name = fc.string({ unit: "binary", minLength: 1, maxLength: 40 })
  // deno-lint-ignore no-control-regex
  .map((text) => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "").trim())
  .filter((text) => text !== "");

/** Text as hono/jsx escapes it in content and attribute values: these five characters only. */
function escaped(text: string): string {
  const entities: Record<string, string> = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
  };
  return text.replace(/[&<>"']/g, (char) => entities[char]!);
}

Deno.test("the greeting and session-data pages show any names escaped, markup and quotes included", async () => {
  await fc.assert(
    fc.asyncProperty(name, name, async (first, last) => {
      const res = await postJson(app, { name: first, lastname: last }, BROWSER_ACCEPT);
      const html = await res.text();
      const full = `${escaped(first)} ${escaped(last)}`;
      assert.ok(html.includes(`<title>Hello ${full} · Sealed Sessions</title>`), html);
      assert.ok(html.includes(`<h1>Hello ${full}</h1>`), html);
      const data = await app.request("/session-data", { headers: { cookie: cookieOf(res) } });
      const page = await data.text();
      assert.ok(page.includes(`<p id="session-data">Session Data: ${full}</p>`), page);
    }),
    // An attacker's name: a script, an attribute break-out, an entity.
    { examples: [[`<script>alert("x")</script>`, `" onmouseover='x' &amp;`]] },
  );
});
