/**
 * The session-data page as a shell: rendered once from its component with markers where the
 * visitor's names go and cut there, so that a request only escapes the names into the pieces.
 * The one place the service bypasses `c.html(Page(props))`, because rendering the component on
 * every request costs more than a twentieth of the server's work for that page (`deno task
 * bench:ab --html` against a checkout that renders it; bench/README.md).
 *
 * @module
 */

import type { Greeting } from "./greeting.ts";
import { SessionDataPage } from "./pages.tsx";

/**
 * The HTML page of `GET /session-data`: exactly what {@linkcode SessionDataPage} renders.
 *
 * @param greeting What the session holds.
 * @returns The page.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sessionDataPage } from "./page_shell.ts";
 * import { SessionDataPage } from "./pages.tsx";
 *
 * const greeting = { name: "Ada <3", lastname: "Lovelace" };
 * assert.equal(sessionDataPage(greeting), String(SessionDataPage({ greeting })));
 * ```
 */
export function sessionDataPage(greeting: Partial<Greeting>): string {
  return before + escapeHtml(greeting.name ?? "") + between + escapeHtml(greeting.lastname ?? "") +
    after;
}

// Markers: NUL then a slot number. Escaping leaves them alone, and the greeting's validation
// refuses every control character in a name.
const [NAME, LASTNAME] = ["\u0000\u0001", "\u0000\u0002"];
const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

// As hono/jsx escapes text.
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

const render = (name: string, lastname: string) =>
  String(SessionDataPage({ greeting: { name, lastname } }));
const [before = "", rest = ""] = render(NAME, LASTNAME).split(NAME);
const [between = "", after = ""] = rest.split(LASTNAME);
// Checked against the component at start-up: a page that changed the names rather than only
// escaping them, or showed one twice, could not be a shell.
const sample = [`<Ada & "Bob's">`, "O'Brien"] as const;
if (sessionDataPage({ name: sample[0], lastname: sample[1] }) !== render(...sample)) {
  throw new Error("Cannot make the session-data shell: the page does not only escape the names");
}
