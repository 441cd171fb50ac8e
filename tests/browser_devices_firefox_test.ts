/**
 * "Where you're signed in" (`examples/devices.ts`) in Firefox, driven by Puppeteer over
 * WebDriver BiDi: two browser contexts, each a profile with cookies of its own, run the flow of
 * `_devices_flow.ts` that `browser_devices_test.ts` runs in Chromium, against the example as
 * `examples/devices_deno.ts` serves it. `_firefox.ts` starts Firefox, headless and offline.
 */

import type { Page } from "puppeteer-core";
import { findByRole, FIREFOX, hasFirefox, launchFirefox } from "./_firefox.ts";
import { type DevicesPage, signOutOtherDevices, startDevicesExample } from "./_devices_flow.ts";

if (!hasFirefox) {
  console.warn(
    `%cSKIPPING Firefox tests: no Firefox at ${FIREFOX} (apt-get install firefox-esr, or set FIREFOX_PATH)`,
    "color: yellow; font-weight: bold",
  );
}

const SECRET = "browser test secret: thirty-two bytes or more";

Deno.test({
  name: "A user signs another Firefox profile out of the devices example",
  ignore: !hasFirefox,
  async fn(t) {
    await using example = await startDevicesExample(SECRET);
    const browser = await launchFirefox();
    try {
      // Two contexts: two profiles, each with its own cookies.
      const a = firefoxPage(await (await browser.createBrowserContext()).newPage());
      const b = firefoxPage(await (await browser.createBrowserContext()).newPage());
      await signOutOtherDevices(t, a, b, example.url, "Firefox");
    } finally {
      await browser.close();
    }
  },
});

/** A Puppeteer page as the flow drives it. */
function firefoxPage(page: Page): DevicesPage {
  // The flow only looks for elements on a document that has loaded.
  const find = (role: string, name: string) => findByRole(page, role, name);
  return {
    async goto(url) {
      const response = await page.goto(url);
      return response!.status();
    },
    url: () => page.url(),
    // Evaluated in the page as a string: Deno's type check knows no DOM.
    texts: async (selector) =>
      await page.evaluate(
        `[...document.querySelectorAll(${JSON.stringify(selector)})].map((e) => e.textContent)`,
      ) as string[],
    async fill(label, value) {
      using field = await find("textbox", label);
      await field.evaluate((element) => (element as unknown as { value: string }).value = "");
      await field.type(value);
    },
    async click(name) {
      using target = await find("button", name);
      const [response] = await Promise.all([page.waitForNavigation(), target.click()]);
      return response!.status();
    },
  };
}
