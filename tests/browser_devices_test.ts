/**
 * "Where you're signed in" (`examples/devices.ts`) in headless Chromium, driven by Playwright:
 * two browser contexts, each a profile with cookies of its own, run the flow of
 * `_devices_flow.ts` against the example as `examples/devices_deno.ts` serves it.
 * `browser_devices_firefox_test.ts` runs the same flow in Firefox.
 *
 * Playwright reads `/proc` files when it loads, which Deno allows only with `--allow-all`.
 * Under the narrower flags of `deno task test`, this file therefore runs itself again in a
 * `deno test --allow-all` subprocess (`--allow-run` already grants as much), as
 * `browser_test.ts` does.
 */

import assert from "node:assert/strict";
import { ROOT } from "./_server.ts";
import { type DevicesPage, signOutOtherDevices, startDevicesExample } from "./_devices_flow.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const hasChromium = await Deno.stat(CHROMIUM).then((info) => info.isFile, () => false);
if (!hasChromium) {
  console.warn(
    `%cSKIPPING browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
    "color: yellow; font-weight: bold",
  );
}

const SECRET = "browser test secret: thirty-two bytes or more";
const TEST_NAME = "A user signs another Chromium profile out of the devices example";

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
        args: ["test", "--allow-all", "tests/browser_devices_test.ts"],
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
  await using example = await startDevicesExample(SECRET);
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
