/**
 * Chromium for the browser tests: Debian's `chromium`, headless, started by Playwright off the
 * network but for the servers under test on 127.0.0.1.
 *
 * Playwright reads `/proc` files when it loads, which Deno allows only with `--allow-all`.
 * Under the narrower flags of `deno task test`, {@linkcode chromiumTest} therefore runs its file
 * again in a `deno test --allow-all` subprocess (`--allow-run` already grants as much).
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { ROOT } from "./_server.ts";

/** Where Chromium is: `CHROMIUM_PATH`, or Debian's `chromium`. */
export const CHROMIUM: string = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

/** Whether there is a Chromium at {@linkcode CHROMIUM}. */
export const hasChromium: boolean = await Deno.stat(CHROMIUM).then(
  (info) => info.isFile,
  () => false,
);

if (!hasChromium) {
  console.warn(
    `%cSKIPPING browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
    "color: yellow; font-weight: bold",
  );
}

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

/**
 * Registers a Chromium test, ignored without Chromium: run here under `--allow-all`, otherwise
 * by running `file` again in a `deno test --allow-all` subprocess.
 *
 * @param name The test's name.
 * @param file The test file, `import.meta.url`.
 * @param fn The test, which imports `playwright-core` when it runs.
 */
export function chromiumTest(
  name: string,
  file: string,
  fn: (t: Deno.TestContext) => Promise<void>,
): void {
  if (hasFullAccess()) {
    Deno.test({ name, ignore: !hasChromium, fn });
    return;
  }
  Deno.test({
    name: `${name} (run with --allow-all in a subprocess)`,
    ignore: !hasChromium,
    async fn() {
      const { code } = await new Deno.Command(Deno.execPath(), {
        args: ["test", "--allow-all", fileURLToPath(file)],
        cwd: ROOT,
        stdin: "null",
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      assert.equal(code, 0, "the browser test failed in its subprocess: see its output above");
    },
  });
}

/**
 * Starts Chromium, headless and offline. Call it from a {@linkcode chromiumTest} only.
 *
 * @returns The browser; close it in `finally`.
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
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
}
