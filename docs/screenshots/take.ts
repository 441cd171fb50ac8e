/**
 * Takes the screenshots in this folder: the form refused with an error (focus on the invalid
 * field) and the welcome-back page, 1280 and 390 px wide, in light and dark mode, from a real
 * server in headless Chromium.
 *
 * ```sh
 * deno run -A docs/screenshots/take.ts
 * ```
 *
 * @module
 */

import { chromium } from "playwright-core";
import { startServer } from "../../tests/_server.ts";

const OUT = new URL(".", import.meta.url).pathname;
const server = await startServer({
  env: { SESSION_SECRET: "screenshots: thirty-two bytes or more" },
});
const browser = await chromium.launch({
  executablePath: Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
try {
  for (const colorScheme of ["light", "dark"] as const) {
    for (const width of [1280, 390]) {
      const page = await browser.newPage({ viewport: { width, height: 844 }, colorScheme });
      await page.goto(`${server.url}/`);
      await page.getByLabel("First name").fill(" ");
      await page.getByLabel("Last name").fill("Lovelace");
      await Promise.all([
        page.waitForResponse(`${server.url}/greeting`),
        page.getByRole("button", { name: "Greet me" }).click(),
      ]);
      await page.waitForLoadState();
      await page.screenshot({ path: `${OUT}form-error-${width}-${colorScheme}.png` });
      await page.getByLabel("First name").fill("Ada");
      await Promise.all([
        page.waitForURL(`${server.url}/greeting`),
        page.getByRole("button", { name: "Greet me" }).click(),
      ]);
      await page.goto(`${server.url}/`);
      await page.screenshot({ path: `${OUT}welcome-${width}-${colorScheme}.png` });
      await page.close();
    }
  }
} finally {
  await browser.close();
  await server.stop();
}
