/**
 * The greeting service in Firefox: Debian's `firefox-esr`, headless, driven by Puppeteer over
 * WebDriver BiDi (Playwright drives only its own patched Firefox build), runs the flow of
 * `_browser_flow.ts` that `browser_test.ts` runs in Chromium. `_firefox.ts` starts it, on a fresh
 * profile and off the network but for the service on 127.0.0.1.
 *
 * Over BiDi, Firefox reports a Content-Security-Policy violation as a JavaScript error log
 * entry ("Content-Security-Policy: The page’s settings blocked …"), which Puppeteer hands on as
 * a `pageerror`: the watch of `_browser_flow.ts` reads it there, and its last step shows it
 * does. Firefox does not log 4xx answers to the console, as Chromium does.
 *
 * The look (the focus ring, contrast, wrapping on a phone) is checked as in Chromium. Puppeteer
 * emulates `prefers-color-scheme` only over CDP, which Firefox does not speak, so each colour
 * scheme is a browser of its own, started with Firefox's preference for the scheme web content
 * sees.
 */

import type { ElementHandle, Page } from "puppeteer-core";
import { findByRole, FIREFOX, hasFirefox, launchFirefox } from "./_firefox.ts";
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

if (!hasFirefox) {
  console.warn(
    `%cSKIPPING Firefox tests: no Firefox at ${FIREFOX} (apt-get install firefox-esr, or set FIREFOX_PATH)`,
    "color: yellow; font-weight: bold",
  );
}

const SECRET = "browser test secret: thirty-two bytes or more";

/** `layout.css.prefers-color-scheme.content-override`: the scheme pages see. */
const SCHEMES = { dark: 0, light: 1 } as const;

function launch(scheme: keyof typeof SCHEMES) {
  return launchFirefox({ "layout.css.prefers-color-scheme.content-override": SCHEMES[scheme] });
}

Deno.test({
  name: "A visitor greets, reads the session data and logs out in Firefox",
  ignore: !hasFirefox,
  async fn(t) {
    await using server = await startServer({ env: { SESSION_SECRET: SECRET } });
    const browser = await launch("light");
    try {
      const page = firefoxPage(await browser.newPage());
      const watch = watchConsole(page);
      await greetAndLogOut(t, page, server.url, watch);
      await refuseAnInvalidName(t, page, server.url, watch);
      await checkTheFocusRing(t, page);
      await checkTheContrast(t, page, server.url, "light");
      await checkTheWrapping(t, page, server.url);
      await checkTheCsp(t, page, watch);
    } finally {
      await browser.close();
    }
    const dark = await launch("dark");
    try {
      const page = firefoxPage(await dark.newPage());
      const watch = watchConsole(page);
      await checkTheContrast(t, page, server.url, "dark");
      await checkTheCsp(t, page, watch);
    } finally {
      await dark.close();
    }
  },
});

/** A Puppeteer page as the shared flow drives it. */
function firefoxPage(page: Page): BrowserPage {
  // The flow only looks for elements on a document that has loaded.
  const find = (role: string, name: string) => findByRole(page, role, name);
  // Evaluated in the page as a string: Deno's type check knows no DOM.
  const first = (selector: string, expression: string) =>
    page.evaluate(`(() => {
      const element = document.querySelector(${JSON.stringify(selector)});
      if (!element) throw new Error(${JSON.stringify(`No element matches "${selector}"`)});
      return ${expression};
    })()`);
  const isChecked = async (box: ElementHandle) =>
    await box.evaluate((element) => (element as unknown as { checked: boolean }).checked);
  return {
    async goto(url) {
      const response = await page.goto(url);
      return response!.status();
    },
    url: () => page.url(),
    title: () => page.title(),
    text: async (selector) => String(await first(selector, "element.textContent")),
    attribute: async (selector, name) =>
      await first(selector, `element.getAttribute(${JSON.stringify(name)})`) as string | null,
    evaluate: async <T>(expression: string) => await page.evaluate(expression) as T,
    async fill(label, value) {
      using field = await find("textbox", label);
      await field.evaluate((element) => (element as unknown as { value: string }).value = "");
      await field.type(value);
    },
    async isChecked(label) {
      using box = await find("checkbox", label);
      return await isChecked(box);
    },
    async check(label) {
      using box = await find("checkbox", label);
      if (!await isChecked(box)) await box.click();
    },
    async click(role, name) {
      using target = await find(role, name);
      const [response] = await Promise.all([page.waitForNavigation(), target.click()]);
      return response!.status();
    },
    focus: (selector) => page.focus(selector),
    hover: (selector) => page.hover(selector),
    setViewport: (width, height) => page.setViewport({ width, height }),
    async cookies() {
      const cookies = await page.browserContext().cookies();
      return cookies.map(({ name, session, expires }) => ({
        name,
        expires: session ? undefined : expires,
      }));
    },
    onMessage(listener) {
      page.on("console", (message) => listener({ type: message.type(), text: message.text() }));
      page.on("pageerror", (error) => listener({ type: "pageerror", text: String(error) }));
    },
  };
}
