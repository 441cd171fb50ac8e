/**
 * Page shells: a page rendered once, at start-up, with markers where a visitor's values go, then
 * cut at the markers. A request only escapes its values and joins a few strings, instead of
 * rendering the whole component tree again. The component stays the single source of the
 * markup: the shell is made from it, and checked against it when made.
 *
 * @module
 */

/** Fills a shell with values, in slot order; each value is HTML-escaped. */
export type ShellFiller = (values: readonly string[]) => string;

// A marker: NUL, then a slot number as one character. Escaping leaves both alone, and the
// service never renders a NUL of its own.
// deno-lint-ignore no-control-regex
const MARKER = /\u0000([\u0001-\u001f])/;
const SAMPLE = `<Ada & "Bob's">`;

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const SPECIAL = /[&<>"']/g;
// Without the g flag: test() then keeps no state between calls.
const HAS_SPECIAL = /[&<>"']/;

/**
 * Escapes text for HTML content and attribute values, as `hono/jsx` does.
 *
 * @param text The text.
 * @returns The escaped text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeHtml } from "./page_shell.ts";
 *
 * assert.equal(escapeHtml(`<b title="x">Ada & Bob's</b>`), "&lt;b title=&quot;x&quot;&gt;Ada &amp; Bob&#39;s&lt;/b&gt;");
 * ```
 */
export function escapeHtml(text: string): string {
  return HAS_SPECIAL.test(text) ? text.replace(SPECIAL, (c) => ESCAPES[c]!) : text;
}

/**
 * Makes a shell from a page: `render` is called once with markers as values, and the result is
 * cut at them.
 *
 * @param render Renders the page for some values (unescaped: the page escapes them).
 * @param slots How many values the page takes (at most 31).
 * @returns A function that fills the shell, equal to `render` for every list of values.
 * @throws {Error} When the page changes a value rather than only escaping it (so a shell cannot
 * stand for it): use the component directly for such a page.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeHtml, pageShell } from "./page_shell.ts";
 *
 * const render = ([name = ""]: readonly string[]) => `<h1>Hello ${escapeHtml(name)}</h1>`;
 * const fill = pageShell(render, 1);
 * assert.equal(fill(["Ada & Bob"]), "<h1>Hello Ada &amp; Bob</h1>");
 * ```
 */
export function pageShell(
  render: (values: readonly string[]) => string,
  slots: number,
): ShellFiller {
  if (!Number.isInteger(slots) || slots < 1 || slots > 31) {
    throw new RangeError(`Cannot make a page shell: slots must be 1 to 31, received ${slots}`);
  }
  const markers = Array.from({ length: slots }, (_, i) => `\u0000${String.fromCharCode(i + 1)}`);
  // split() with a capture group alternates text and slot characters.
  const pieces = render(markers).split(MARKER);
  const texts: string[] = [];
  const order: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    if (i % 2 === 0) texts.push(pieces[i]!);
    else order.push(pieces[i]!.charCodeAt(0) - 1);
  }
  const fill: ShellFiller = (values) => {
    let out = texts[0]!;
    for (let i = 0; i < order.length; i++) {
      out += escapeHtml(values[order[i]!] ?? "") + texts[i + 1]!;
    }
    return out;
  };
  const sample = markers.map((_, i) => `${SAMPLE} ${i}`);
  if (fill(sample) !== render(sample)) {
    throw new Error(
      "Cannot make a page shell: the page changes its values rather than only escaping them",
    );
  }
  return fill;
}
