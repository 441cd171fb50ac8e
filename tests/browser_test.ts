/**
 * The greeting service in a real browser: headless Chromium, driven by Playwright, runs the
 * flow of `_browser_flow.ts` (the form, the greeting, both kinds of cookie, the session data,
 * logout, a refused name, the look: the focus ring, contrast in both colour schemes, wrapping
 * on a phone; no console error, no Content-Security-Policy violation), which
 * `browser_firefox_test.ts` runs in Firefox.
 *
 * `_chromium.ts` starts Chromium and, under the narrower flags of `deno task test`, runs this
 * file again with `--allow-all`, which Playwright needs.
 */

import { chromiumTest, launchChromium } from "./_chromium.ts";
import { startServer } from "./_server.ts";
import {
  type BrowserPage,
  checkTheContrast,
  checkTheCsp,
  checkTheFocusRing,
  checkTheWrapping,
  greetAndLogOut,
  refuseAnInvalidName,
  watchConsole,
} from "./_browser_flow.ts";

const SECRET = "browser test secret: thirty-two bytes or more";
const TEST_NAME = "A visitor greets, reads the session data and logs out in Chromium";

chromiumTest(TEST_NAME, import.meta.url, browse);

async function browse(t: Deno.TestContext): Promise<void> {
  const server = await startServer({ env: { SESSION_SECRET: SECRET } });
  try {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const flow = chromiumPage(page);
      const watch = watchConsole(flow);
      await greetAndLogOut(t, flow, server.url, watch);
      await refuseAnInvalidName(t, flow, server.url, watch);

      await checkTheFocusRing(t, flow);
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await checkTheContrast(t, flow, server.url, scheme);
      }
      await page.emulateMedia({ colorScheme: null });
      await checkTheWrapping(t, flow, server.url);
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
    focus: (selector) => page.locator(selector).first().focus(),
    hover: (selector) => page.locator(selector).first().hover(),
    setViewport: (width, height) => page.setViewportSize({ width, height }),
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
