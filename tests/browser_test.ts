/**
 * The greeting service in a real browser: headless Chromium fills in the form, reads the
 * session data, logs out, and reports any Content-Security-Policy violation.
 *
 * Playwright reads `/proc` files when it loads, which Deno allows only with `--allow-all`.
 * Under the narrower flags of `deno task test`, this file therefore runs itself again in a
 * `deno test --allow-all` subprocess (`--allow-run` already grants as much).
 */

import assert from "node:assert/strict";
import { ROOT, startServer } from "./_server.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const hasChromium = await Deno.stat(CHROMIUM).then((info) => info.isFile, () => false);
if (!hasChromium) {
  console.warn(
    `%cSKIPPING browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
    "color: yellow; font-weight: bold",
  );
}

const SECRET = "browser test secret: thirty-two bytes or more";
const TEST_NAME = "A visitor greets, reads the session data and logs out in Chromium";

// What Playwright trips over at import time without --allow-all.
function hasFullAccess(): boolean {
  try {
    Deno.statSync("/proc/self/cgroup");
    return true;
  } catch (error) {
    return !(error instanceof Deno.errors.NotCapable ||
      error instanceof Deno.errors.PermissionDenied);
  }
}

if (hasFullAccess()) {
  Deno.test({ name: TEST_NAME, ignore: !hasChromium, fn: browse });
} else {
  Deno.test({
    name: `${TEST_NAME} (run with --allow-all in a subprocess)`,
    ignore: !hasChromium,
    async fn() {
      const { code } = await new Deno.Command(Deno.execPath(), {
        args: ["test", "--allow-all", "tests/browser_test.ts"],
        cwd: ROOT,
        stdin: "null",
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      assert.equal(code, 0, "the browser test failed in its subprocess: see its output above");
    },
  });
}

async function browse(t: Deno.TestContext): Promise<void> {
  const { chromium } = await import("playwright-core");
  const server = await startServer({ env: { SESSION_SECRET: SECRET } });
  try {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const violations: string[] = [];
      // Chromium logs every 4xx answer as an error; a step expecting one says so here.
      let expectedError: RegExp | undefined;
      page.on("console", (message) => {
        const text = message.text();
        if (/Content Security Policy/i.test(text)) violations.push(text);
        else if (message.type() === "error" && !expectedError?.test(text)) errors.push(text);
      });
      page.on("pageerror", (error) => errors.push(String(error)));

      await t.step("the start page offers the form", async () => {
        const res = await page.goto(`${server.url}/`);
        assert.equal(res?.status(), 200);
        assert.equal(await page.getAttribute("html", "lang"), "en");
        assert.match(await page.title(), /Hello, who are you\?/);
        // The fields are reachable by their labels, as assistive technology finds them.
        await page.getByLabel("First name").fill("Ada");
        await page.getByLabel("Last name").fill("Lovelace");
      });

      await t.step("submitting it shows the greeting", async () => {
        await Promise.all([
          page.waitForURL(`${server.url}/greeting`),
          page.getByRole("button", { name: "Greet me" }).click(),
        ]);
        assert.equal(await page.locator("h1").textContent(), "Hello Ada Lovelace");
      });

      await t.step("the stylesheet applied: the CSP let it through", async () => {
        // A string, evaluated in the page: Deno's type check knows no DOM.
        const font = await page.evaluate<string>(
          "getComputedStyle(document.documentElement).fontFamily",
        );
        assert.match(font, /system-ui/);
      });

      await t.step("the session data page shows the name", async () => {
        await Promise.all([
          page.waitForURL(`${server.url}/session-data`),
          page.getByRole("link", { name: "See what your session holds" }).click(),
        ]);
        assert.equal(
          await page.locator("#session-data").textContent(),
          "Session Data: Ada Lovelace",
        );
      });

      await t.step("the start page welcomes the visitor back", async () => {
        await page.goto(`${server.url}/`);
        assert.match(await page.locator("h1").textContent() ?? "", /Welcome back, Ada Lovelace/);
      });

      await t.step("logging out returns to the form and forgets the name", async () => {
        await Promise.all([
          page.waitForURL(`${server.url}/`),
          page.getByRole("button", { name: "Log out" }).click(),
        ]);
        assert.match(await page.title(), /Hello, who are you\?/);
        const cookies = await page.context().cookies();
        assert.deepEqual(cookies.map((cookie) => cookie.name), []);
        await page.goto(`${server.url}/session-data`);
        assert.equal(await page.locator("#session-data").textContent(), "Session Data:  ");
      });

      await t.step("no console errors along the way", () => {
        assert.deepEqual(errors, []);
      });

      await t.step("an invalid name is refused with an accessible message", async () => {
        expectedError = /status of 400/;
        await page.goto(`${server.url}/`);
        await page.getByLabel("First name").fill("   ");
        await page.getByLabel("Last name").fill("Lovelace");
        const [res] = await Promise.all([
          page.waitForResponse(`${server.url}/greeting`),
          page.getByRole("button", { name: "Greet me" }).click(),
        ]);
        assert.equal(res.status(), 400);
        assert.match(
          await page.getByRole("alert").textContent() ?? "",
          /not saved\. Please check First name\./,
        );
        // The message is read with its field, and the summary links to the field.
        assert.equal(
          await page.getByLabel("First name").getAttribute("aria-describedby"),
          "name-error",
        );
        assert.equal(
          await page.locator("#name-error").textContent(),
          "First name must not be blank (whitespace only).",
        );
        assert.equal(
          await page.getByRole("alert").getByRole("link").getAttribute("href"),
          "#name",
        );
      });

      await t.step("each error message is shown once", async () => {
        const text = await page.evaluate<string>("document.body.innerText");
        assert.equal(text.split("must not be blank").length - 1, 1, text);
      });

      await t.step("focus is on the first invalid field, with no script", async () => {
        assert.equal(await page.evaluate<string>("document.activeElement.id"), "name");
      });

      await t.step(
        "the focused invalid field shows a focus ring unlike its unfocused look",
        async () => {
          const focused = await computed(page, "#name", ["outlineStyle", "outlineWidth"]);
          assert.notEqual(focused.outlineStyle, "none");
          assert.ok(parseFloat(focused.outlineWidth!) >= 2, `outline ${focused.outlineWidth}`);
          await page.getByLabel("Last name").focus();
          const unfocused = await computed(page, "#name", ["outlineStyle"]);
          assert.equal(unfocused.outlineStyle, "none", "without focus, no ring");
          assert.equal(await page.locator("#name").getAttribute("aria-invalid"), "true");
        },
      );

      for (const scheme of ["light", "dark"] as const) {
        await t.step(`every state meets WCAG AA contrast in ${scheme} mode`, async () => {
          await page.emulateMedia({ colorScheme: scheme });
          const failures = await contrastFailures(page, server.url);
          assert.deepEqual(failures, []);
        });
      }
      await page.emulateMedia({ colorScheme: null });

      await t.step("a 100-character name without spaces wraps on a 390 px phone", async () => {
        await page.setViewportSize({ width: 390, height: 844 });
        const long = "W".repeat(100);
        await page.goto(`${server.url}/`);
        await page.getByLabel("First name").fill(long);
        await page.getByLabel("Last name").fill(long);
        await Promise.all([
          page.waitForURL(`${server.url}/greeting`),
          page.getByRole("button", { name: "Greet me" }).click(),
        ]);
        assert.equal(await page.locator("h1").textContent(), `Hello ${long} ${long}`);
        await assertNoHorizontalOverflow(page, "the greeting page");
        await page.goto(`${server.url}/`);
        assert.match(await page.locator("h1").textContent() ?? "", /^Welcome back, W{100}/);
        await assertNoHorizontalOverflow(page, "the welcome-back page");
        await page.goto(`${server.url}/session-data`);
        await assertNoHorizontalOverflow(page, "the session data page");
        await page.goto(`${server.url}/`);
        await Promise.all([
          page.waitForURL(`${server.url}/`),
          page.getByRole("button", { name: "Log out" }).click(),
        ]);
      });

      await t.step("no Content-Security-Policy violation on any page", () => {
        assert.deepEqual(violations, []);
        assert.deepEqual(errors, []);
      });
    } finally {
      await browser.close();
    }
  } finally {
    await server.stop();
  }
}

type Page = import("playwright-core").Page;

// Computed style properties of the first element matching `selector`. A string evaluated in
// the page, since Deno's type check knows no DOM.
async function computed(
  page: Page,
  selector: string,
  properties: readonly string[],
): Promise<Record<string, string>> {
  return await page.evaluate<Record<string, string>>(`(() => {
    const style = getComputedStyle(document.querySelector(${JSON.stringify(selector)}));
    return Object.fromEntries(${JSON.stringify(properties)}.map((p) => [p, style[p]]));
  })()`);
}

async function assertNoHorizontalOverflow(page: Page, what: string): Promise<void> {
  const { scrollWidth, clientWidth } = await page.evaluate<
    { scrollWidth: number; clientWidth: number }
  >(
    "({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth })",
  );
  assert.ok(scrollWidth <= clientWidth, `${what} is ${scrollWidth} px wide in ${clientWidth} px`);
}

// sRGB relative luminance and contrast ratio, as WCAG 2 defines them.
function luminance(color: string): number {
  const match = color.match(
    /^rgba?\((\d+(?:\.\d+)?), (\d+(?:\.\d+)?), (\d+(?:\.\d+)?)(?:, ([\d.]+))?\)$/,
  );
  assert.ok(match, `an opaque rgb() colour, received ${color}`);
  assert.ok(match[4] === undefined || match[4] === "1", `an opaque colour, received ${color}`);
  const [r, g, b] = [match[1], match[2], match[3]].map((part) => {
    const c = Number(part) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

// Measures the key colour pairs of the form with errors and of the welcome-back page, in each
// state (rest, hover, focus, invalid), and lists the pairs below AA: 4.5:1 for text, 3:1 for
// borders and focus rings against what they sit on.
async function contrastFailures(page: Page, url: string): Promise<string[]> {
  const failures: string[] = [];
  const check = (what: string, fg: string, bg: string, min: number) => {
    const ratio = contrast(fg, bg);
    if (ratio < min) failures.push(`${what}: ${fg} on ${bg} is ${ratio.toFixed(2)}:1 < ${min}:1`);
  };
  const style = async (selector: string) =>
    await computed(page, selector, [
      "color",
      "backgroundColor",
      "borderTopColor",
      "outlineColor",
      "outlineStyle",
    ]);

  // The form refused: a blank first name and a valid last name.
  await page.goto(`${url}/`);
  await page.getByLabel("First name").fill(" ");
  await page.getByLabel("Last name").fill("Lovelace");
  await Promise.all([
    page.waitForResponse(`${url}/greeting`),
    page.getByRole("button", { name: "Greet me" }).click(),
  ]);
  await page.waitForLoadState();
  const card = (await style("main")).backgroundColor!;
  check(
    "page background behind the card",
    (await style("h1")).color!,
    (await style("html")).backgroundColor!,
    4.5,
  );
  check("heading", (await style("h1")).color!, card, 4.5);
  check("label", (await style("label")).color!, card, 4.5);
  const summary = await style(".summary");
  check("summary text", (await style(".summary p")).color!, summary.backgroundColor!, 4.5);
  check("summary link", (await style(".summary a")).color!, summary.backgroundColor!, 4.5);
  check("field error message", (await style(".error")).color!, card, 4.5);
  const invalidFocused = await style("#name");
  check("invalid field border", invalidFocused.borderTopColor!, card, 3);
  check("focus ring on the invalid field", invalidFocused.outlineColor!, card, 3);
  assert.notEqual(invalidFocused.outlineStyle, "none", "the invalid field has focus here");
  const valid = await style("#lastname");
  check("input text", valid.color!, valid.backgroundColor!, 4.5);
  check("input border", valid.borderTopColor!, card, 3);
  await page.getByLabel("Last name").focus();
  check("focus ring on a valid field", (await style("#lastname")).outlineColor!, card, 3);
  const button = await style("button[type=submit]");
  check("button text", button.color!, button.backgroundColor!, 4.5);
  check("button edge", button.backgroundColor!, card, 3);
  await page.getByRole("button", { name: "Greet me" }).hover();
  const hovered = await style("button[type=submit]");
  check("button text on hover", hovered.color!, hovered.backgroundColor!, 4.5);

  // The welcome-back page: links and the secondary (log out) button.
  await page.getByLabel("First name").fill("Ada");
  await Promise.all([
    page.waitForURL(`${url}/greeting`),
    page.getByRole("button", { name: "Greet me" }).click(),
  ]);
  await page.goto(`${url}/`);
  check("link", (await style("a")).color!, card, 4.5);
  const logout = await style(".visitor button");
  check("secondary button text", logout.color!, card, 4.5);
  check("secondary button border", logout.borderTopColor!, card, 3);
  await page.getByRole("button", { name: "Log out" }).hover();
  const logoutHover = await style(".visitor button");
  check("secondary button text on hover", logoutHover.color!, logoutHover.backgroundColor!, 4.5);
  await page.mouse.move(0, 0);
  await Promise.all([
    page.waitForURL(`${url}/`),
    page.getByRole("button", { name: "Log out" }).click(),
  ]);
  return failures;
}
