/**
 * The greeting service in a real browser: headless Chromium, driven by Playwright, runs the
 * flow of `_browser_flow.ts` (the form, the greeting, both kinds of cookie, the session data,
 * logout, a refused name, no console error, no Content-Security-Policy violation), which
 * `browser_firefox_test.ts` runs in Firefox, then checks the look: the focus ring, contrast in
 * both colour schemes, and wrapping on a phone.
 *
 * Playwright reads `/proc` files when it loads, which Deno allows only with `--allow-all`.
 * Under the narrower flags of `deno task test`, this file therefore runs itself again in a
 * `deno test --allow-all` subprocess (`--allow-run` already grants as much).
 */

import assert from "node:assert/strict";
import { ROOT, startServer } from "./_server.ts";
import {
  type BrowserPage,
  checkTheCsp,
  greetAndLogOut,
  refuseAnInvalidName,
  watchConsole,
} from "./_browser_flow.ts";

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
      const flow = chromiumPage(page);
      const watch = watchConsole(flow);
      await greetAndLogOut(t, flow, server.url, watch);
      await refuseAnInvalidName(t, flow, server.url, watch);

      // Chromium alone checks the look: the focus ring, contrast in both schemes, wrapping on
      // a phone.
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

      await checkTheCsp(t, flow, watch);
    } finally {
      await browser.close();
    }
  } finally {
    await server.stop();
  }
}

type Page = import("playwright-core").Page;

/** A Playwright page as the shared flow drives it. */
function chromiumPage(page: Page): BrowserPage {
  const byRole = (role: "textbox" | "checkbox" | "button" | "link", name: string) =>
    page.getByRole(role, { name, exact: true });
  return {
    async goto(url) {
      const response = await page.goto(url);
      return response!.status();
    },
    url: () => page.url(),
    title: () => page.title(),
    text: async (selector) => await page.locator(selector).first().textContent() ?? "",
    attribute: (selector, name) => page.locator(selector).first().getAttribute(name),
    evaluate: <T>(expression: string) => page.evaluate<T>(expression),
    fill: (label, value) => byRole("textbox", label).fill(value),
    isChecked: (label) => byRole("checkbox", label).isChecked(),
    check: (label) => byRole("checkbox", label).check(),
    async click(role, name) {
      // The document the click leads to: its response (after any redirect), then its load.
      const [response] = await Promise.all([
        page.waitForResponse((response) =>
          response.request().isNavigationRequest() && response.frame() === page.mainFrame() &&
          (response.status() < 300 || response.status() >= 400)
        ),
        page.waitForEvent("load"),
        byRole(role, name).click(),
      ]);
      return response.status();
    },
    async cookies() {
      // Playwright reports a cookie without Expires or Max-Age as expiring at -1.
      const cookies = await page.context().cookies();
      return cookies.map(({ name, expires }) => ({
        name,
        expires: expires === -1 ? undefined : expires,
      }));
    },
    onMessage(listener) {
      page.on("console", (message) => listener({ type: message.type(), text: message.text() }));
      page.on("pageerror", (error) => listener({ type: "pageerror", text: String(error) }));
    },
  };
}

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
