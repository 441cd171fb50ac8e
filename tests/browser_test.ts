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

      await t.step("without Remember me, the cookie ends with the browser session", async () => {
        const cookies = await page.context().cookies();
        assert.deepEqual(cookies.map((cookie) => cookie.name), ["session"]);
        // Playwright reports a cookie without Expires or Max-Age as expiring at -1.
        assert.equal(cookies[0]!.expires, -1);
        assert.match(
          await page.locator("#session-kind").textContent() ?? "",
          /forgotten when you close your browser/,
        );
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

      await t.step("ticking Remember me keeps the cookie for SESSION_MAX_AGE", async () => {
        const box = page.getByLabel("Remember me on this device");
        assert.equal(await box.isChecked(), false);
        await box.check();
        const before = Date.now() / 1000;
        await Promise.all([
          page.waitForURL(`${server.url}/greeting`),
          page.getByRole("button", { name: "Change my name" }).click(),
        ]);
        const cookies = await page.context().cookies();
        assert.deepEqual(cookies.map((cookie) => cookie.name), ["session"]);
        const expires = cookies[0]!.expires;
        // Max-Age=1209600 (the default SESSION_MAX_AGE), counted from the response.
        assert.ok(
          expires >= before + 1_209_600 - 5 && expires <= Date.now() / 1000 + 1_209_600 + 5,
          `expires ${expires}, expected about ${before + 1_209_600}`,
        );
        assert.match(await page.locator("#session-kind").textContent() ?? "", /remembers you/);
        await page.goto(`${server.url}/`);
        assert.equal(await page.getByLabel("Remember me on this device").isChecked(), true);
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
          /First name must not be blank/,
        );
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
