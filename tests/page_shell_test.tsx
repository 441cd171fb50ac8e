import assert from "node:assert/strict";
import fc from "fast-check";
import { escapeHtml, pageShell } from "../routes/page_shell.ts";
import { GreetingPage, SessionDataPage } from "../routes/pages.tsx";

// Names as a visitor could send them: any text, markup and quotes included (not NUL, the
// shell's marker, which the greeting's validation refuses with every control character).
const name = fc.string({ unit: "binary", maxLength: 40 }).map((text) => text.replaceAll("\0", ""));

Deno.test("pageShell() fills the greeting page exactly as the component renders it, for any names", () => {
  const fill = pageShell(
    ([name = "", lastname = ""]) => String(<GreetingPage greeting={{ name, lastname }} />),
    2,
  );
  fc.assert(fc.property(name, name, (first, last) => {
    const expected = String(<GreetingPage greeting={{ name: first, lastname: last }} />);
    assert.equal(fill([first, last]), expected);
  }));
});

Deno.test("pageShell() fills the session-data page exactly as the component renders it, missing names included", () => {
  const fill = pageShell(
    ([name, lastname]) => String(<SessionDataPage greeting={{ name, lastname }} />),
    2,
  );
  fc.assert(fc.property(name, name, (first, last) => {
    assert.equal(
      fill([first, last]),
      String(<SessionDataPage greeting={{ name: first, lastname: last }} />),
    );
  }));
  assert.equal(fill([]), String(<SessionDataPage greeting={{}} />));
});

Deno.test("pageShell() refuses a page that changes its values instead of only escaping them", () => {
  assert.throws(
    () => pageShell(([value = ""]) => `<p>${escapeHtml(value.toUpperCase())}</p>`, 1),
    /changes its values/,
  );
  assert.throws(() => pageShell(() => "", 0), RangeError);
});

Deno.test("escapeHtml() escapes the five characters hono/jsx escapes, and only those", () => {
  fc.assert(fc.property(name, (text) => {
    assert.equal(escapeHtml(text), String(<b>{text}</b>).slice(3, -4));
  }));
  assert.equal(escapeHtml(`&<>"'`), "&amp;&lt;&gt;&quot;&#39;");
});
