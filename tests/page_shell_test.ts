/**
 * The session-data shell (`routes/page_shell.ts`) answers exactly what the component it stands
 * for renders, for any names: escaping included.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { sessionDataPage } from "../routes/page_shell.ts";
import { SessionDataPage } from "../routes/pages.tsx";

// Names as a visitor could send them: any text, markup and quotes included (not NUL, the
// shell's marker, which the greeting's validation refuses with every control character).
const name = fc.string({ unit: "binary", maxLength: 40 }).map((text) => text.replaceAll("\0", ""));

Deno.test("sessionDataPage() is the session-data page as the component renders it, missing names included", () => {
  fc.assert(fc.property(name, name, (first, last) => {
    const greeting = { name: first, lastname: last };
    assert.equal(sessionDataPage(greeting), String(SessionDataPage({ greeting })));
  }));
  assert.equal(sessionDataPage({}), String(SessionDataPage({ greeting: {} })));
  assert.equal(
    sessionDataPage({ name: "Ada" }),
    String(SessionDataPage({ greeting: { name: "Ada" } })),
  );
});
