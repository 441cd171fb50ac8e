/**
 * Firefox for the browser tests: Debian's `firefox-esr`, headless, started by Puppeteer (which
 * speaks WebDriver BiDi to it) on a fresh profile in a temporary folder, which Puppeteer deletes
 * when it stops the browser, with the environment and preferences below keeping it off the
 * network but for the servers under test on 127.0.0.1.
 *
 * @module
 */

import puppeteer, { type Browser, type ElementHandle, type Page } from "puppeteer-core";

/** Where Firefox is: `FIREFOX_PATH`, or Debian's `firefox-esr`. */
export const FIREFOX: string = Deno.env.get("FIREFOX_PATH") ?? "/usr/bin/firefox-esr";

/** Whether there is a Firefox at {@linkcode FIREFOX}. */
export const hasFirefox: boolean = await Deno.stat(FIREFOX).then(
  (info) => info.isFile,
  () => false,
);

// Firefox's own switch for test runs: it refuses connections to public addresses and lets Remote
// Settings honour the dummy server of Puppeteer's test profile, so it fetches nothing.
const OFFLINE_ENV = { MOZ_DISABLE_NONLOCAL_CONNECTIONS: "1" };

// On top of Puppeteer's defaults for a test profile (no app or add-on updates, no Normandy, no
// Safe Browsing, no health report, Remote Settings on a dummy server): the other services that
// would reach beyond this machine, off.
const OFFLINE_PREFS: Record<string, unknown> = {
  "network.proxy.type": 0, // direct: no system or environment proxy
  "network.trr.mode": 5, // no DNS over HTTPS
  "network.connectivity-service.enabled": false,
  "network.captive-portal-service.enabled": false,
  "browser.region.update.enabled": false,
  "browser.region.network.url": "",
  "datareporting.usage.uploadEnabled": false,
  "toolkit.telemetry.server": "",
  "toolkit.coverage.endpoint.base": "",
  "app.shield.optoutstudies.enabled": false,
  "extensions.blocklist.enabled": false,
  "extensions.systemAddon.update.enabled": false,
  "identity.fxaccounts.enabled": false,
};

/**
 * Starts Firefox, headless and offline.
 *
 * @param prefs Preferences on top of the offline ones.
 * @returns The browser; close it in `finally`.
 */
export function launchFirefox(prefs: Record<string, unknown> = {}): Promise<Browser> {
  return puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX,
    headless: true,
    extraPrefsFirefox: { ...OFFLINE_PREFS, ...prefs },
    env: { ...Deno.env.toObject(), ...OFFLINE_ENV },
  });
}

/**
 * The element of this role and accessible name on the page, from Firefox's accessibility tree
 * (Puppeteer's ARIA selector, answered by BiDi `locateNodes`). One query, no polling: for a
 * document that has loaded.
 *
 * @param page The page.
 * @param role An ARIA role, e.g. `button`.
 * @param name Its accessible name, exactly.
 * @returns The element; dispose of it (`using`) when done.
 * @throws When there is none, naming the role, the name and the page.
 */
export async function findByRole(page: Page, role: string, name: string): Promise<ElementHandle> {
  const selector = `::-p-aria([role=${JSON.stringify(role)}][name=${JSON.stringify(name)}])`;
  const element = await page.$(selector);
  if (!element) throw new Error(`No ${role} named "${name}" on ${page.url()}`);
  return element;
}
