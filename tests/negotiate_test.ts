/**
 * Content negotiation: `preferredFormat()` and `acceptsHtmlExplicitly()`.
 */

import assert from "node:assert/strict";
import { acceptsHtmlExplicitly, preferredFormat } from "../routes/negotiate.ts";

const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

Deno.test("preferredFormat() negotiates HTML, JSON and plain text", () => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, "html"],
    ["", "html"],
    ["*/*", "html"],
    [BROWSER_ACCEPT, "html"],
    ["application/json", "json"],
    ["text/plain", "text"],
    ["text/*", "html"],
    ["text/plain, text/*;q=0.5", "text"],
    ["application/json;q=0.2, text/plain;q=0.8", "text"],
    ["text/html;q=0, */*", "json"],
    ["image/png", "html"],
    ["APPLICATION/JSON", "json"],
    ["application/json;q=abc, text/plain", "text"],
  ];
  for (const [accept, format] of cases) {
    assert.equal(preferredFormat(accept), format, `Accept: ${accept}`);
  }
  assert.equal(acceptsHtmlExplicitly(BROWSER_ACCEPT), true);
  assert.equal(acceptsHtmlExplicitly("*/*"), false);
  assert.equal(acceptsHtmlExplicitly("text/html;q=0"), false);
  assert.equal(acceptsHtmlExplicitly(undefined), false);
});
