/**
 * "Where you're signed in" (`examples/devices.ts`) in headless Chromium, driven by Playwright:
 * two browser contexts, each a profile with cookies of its own, run the flow of
 * `_devices_flow.ts` against the example as `examples/devices_deno.ts` serves it.
 * `browser_devices_firefox_test.ts` runs the same flow in Firefox.
 * `_chromium.ts` starts Chromium and, under the narrower flags of `deno task test`, runs this
 * file again with `--allow-all`, which Playwright needs.
 */

import { chromiumTest, launchChromium } from "./_chromium.ts";
import { type DevicesPage, signOutOtherDevices, startDevicesExample } from "./_devices_flow.ts";

const SECRET = "browser test secret: thirty-two bytes or more";
const TEST_NAME = "A user signs another Chromium profile out of the devices example";

chromiumTest(TEST_NAME, import.meta.url, browse);

async function browse(t: Deno.TestContext): Promise<void> {
  await using example = await startDevicesExample(SECRET);
  const browser = await launchChromium();
  try {
    // Two contexts: two profiles, each with its own cookies.
    const a = chromiumPage(await (await browser.newContext()).newPage());
    const b = chromiumPage(await (await browser.newContext()).newPage());
    await signOutOtherDevices(t, a, b, example.url, "Chrome");
  } finally {
    await browser.close();
  }
}

type Page = import("playwright-core").Page;

/** A Playwright page as the flow drives it. */
function chromiumPage(page: Page): DevicesPage {
  return {
    async goto(url) {
      const response = await page.goto(url);
      return response!.status();
    },
    url: () => page.url(),
    texts: (selector) => page.locator(selector).allTextContents(),
    fill: (label, value) => page.getByRole("textbox", { name: label, exact: true }).fill(value),
    async click(name) {
      // The document the click leads to: its response (after the redirect), then its load.
      const [response] = await Promise.all([
        page.waitForResponse((response) =>
          response.request().isNavigationRequest() && response.frame() === page.mainFrame() &&
          (response.status() < 300 || response.status() >= 400)
        ),
        page.waitForEvent("load"),
        page.getByRole("button", { name, exact: true }).click(),
      ]);
      return response.status();
    },
  };
}
