/**
 * "Where you're signed in" in real browsers, written once for every browser: the example app as
 * `examples/devices_deno.ts` serves it, and two browser profiles of one user. Profile A signs in,
 * then profile B as the same user; A's list shows B's device with its label, and A signs it out:
 * B's next page is the login form. B signs in again and A signs out all other devices: B is
 * signed out again, A still signed in.
 *
 * Each browser test wraps its automation library in a {@linkcode DevicesPage} (Playwright for
 * Chromium in `browser_devices_test.ts`, Puppeteer over WebDriver BiDi for Firefox in
 * `browser_devices_firefox_test.ts`), one per profile, and runs {@linkcode signOutOtherDevices}.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childEnv, ROOT, startOnFreePort } from "./_server.ts";

/** What the flow needs of a browser profile: one page, found by accessible names. */
export interface DevicesPage {
  /** Loads `url`; resolves with the HTTP status of the document once it has loaded. */
  goto(url: string): Promise<number>;
  /** The URL of the current document. */
  url(): string;
  /** The text content of every element matching the CSS `selector`, in document order. */
  texts(selector: string): Promise<string[]>;
  /** Types `value` into the text field labelled `label`, replacing what it holds. */
  fill(label: string, value: string): Promise<void>;
  /**
   * Clicks the button named `name` and waits until the document it leads to (after any
   * redirect) has loaded; resolves with that document's HTTP status.
   */
  click(name: string): Promise<number>;
}

/** The example app, running. */
export interface DevicesExample extends AsyncDisposable {
  /** Base URL, e.g. `http://127.0.0.1:41234`, without a trailing slash. */
  readonly url: string;
  /** Stops the process (by its pid) and waits for it and its output to end. */
  stop(): Promise<void>;
}

/**
 * Serves `examples/devices_deno.ts` on a free port of 127.0.0.1, with Deno KV in memory, and
 * waits until it listens.
 *
 * @param secret The session secret.
 * @returns The running example; stop it in `finally` (or `await using`).
 * @throws {Error} When it exits or stays silent for 30 s before listening; the message carries
 * its output.
 */
export function startDevicesExample(secret: string): Promise<DevicesExample> {
  return startOnFreePort(async (port) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net=127.0.0.1",
        "--allow-env",
        "--unstable-kv",
        "examples/devices_deno.ts",
      ],
      cwd: ROOT,
      clearEnv: true,
      env: childEnv({ SESSION_SECRET: secret, SESSION_KV: ":memory:", PORT: String(port) }),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Deno.serve writes its "Listening on" line to stderr.
    let output = "";
    let onOutput = () => {};
    const drain = async (stream: ReadableStream<Uint8Array>) => {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        output += text;
        onOutput();
      }
    };
    const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
    let exited = false;
    const status = child.status.then(() => {
      exited = true;
      onOutput();
    });
    const stop = async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      await status;
      await drained;
    };
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no 'Listening on' line in 30 s")), 30_000);
        const listening = () => output.includes(`Listening on http://127.0.0.1:${port}/`);
        onOutput = () => {
          if (!listening() && !exited) return;
          clearTimeout(timer);
          if (listening()) resolve();
          else reject(new Error("it exited before listening"));
        };
        onOutput();
      });
    } catch (error) {
      await stop();
      throw new Error(
        `Cannot serve examples/devices_deno.ts: ${(error as Error).message}\n${output}`,
      );
    }
    onOutput = () => {};
    return { url: `http://127.0.0.1:${port}`, stop, [Symbol.asyncDispose]: stop };
  });
}

/** The system the browsers run on, as the example's labels name it. */
const SYSTEMS: Record<string, string> = { linux: "Linux", darwin: "macOS", windows: "Windows" };

/**
 * The whole flow: two profiles of one user, one signing the other out, then every other device.
 *
 * @param t The test context; each check is a step.
 * @param a Profile A's page, fresh: no cookie yet.
 * @param b Profile B's page, a separate profile (its own cookies).
 * @param url The example's base URL, without a trailing slash.
 * @param browser What the example's label calls the browser: "Chrome", "Firefox".
 */
export async function signOutOtherDevices(
  t: Deno.TestContext,
  a: DevicesPage,
  b: DevicesPage,
  url: string,
  browser: string,
): Promise<void> {
  const system = SYSTEMS[Deno.build.os];
  const label = system ? `${browser} on ${system}` : browser;
  const sessions = `${url}/sessions`;
  const heading = async (page: DevicesPage) => (await page.texts("h1"))[0];
  /** The devices page lists, each item's text on one line; loads it first when asked. */
  const devices = async (page: DevicesPage, load = true) => {
    if (load) assert.equal(await page.goto(sessions), 200);
    assert.equal(await heading(page), "Where you're signed in");
    return (await page.texts("li")).map((text) => text.replace(/\s+/g, " ").trim());
  };
  // A line break (`<br>`) adds no text: nothing may separate the label from "Signed in".
  const thisDevice = new RegExp(`^${label} This device ?Signed in .+ UTC, last active .+ UTC$`);
  const otherDevice = new RegExp(`^${label} ?Signed in .+ UTC, last active .+ UTC Sign out$`);
  const signIn = async (page: DevicesPage) => {
    assert.equal(await page.goto(sessions), 200);
    assert.equal(await heading(page), "Sign in");
    await page.fill("User name", "ada");
    assert.equal(await page.click("Sign in"), 200);
    assert.equal(page.url(), sessions);
  };
  const isSignedOut = async (page: DevicesPage) => {
    assert.equal(await page.goto(sessions), 200);
    assert.equal(await heading(page), "Sign in");
    assert.match((await page.texts("main"))[0]!, /no passwords/);
  };

  await t.step("profile A signs in: its list shows this device alone", async () => {
    await signIn(a);
    const listed = await devices(a, false);
    assert.equal(listed.length, 1, listed.join("\n"));
    assert.match(listed[0]!, thisDevice);
  });

  await t.step("profile B signs in as the same user: both devices are listed", async () => {
    await signIn(b);
    const listed = await devices(b, false);
    assert.equal(listed.length, 2, listed.join("\n"));
    assert.match(listed[0]!, thisDevice, "newest first");
    assert.match(listed[1]!, otherDevice);
  });

  await t.step("A's list shows B's device with its label and a Sign out button", async () => {
    const listed = await devices(a);
    assert.equal(listed.length, 2, listed.join("\n"));
    assert.match(listed[0]!, otherDevice);
    assert.match(listed[1]!, thisDevice);
  });

  await t.step("A signs B out: A's list shows this device alone", async () => {
    assert.equal(await a.click("Sign out"), 200);
    assert.equal(a.url(), sessions);
    const listed = await devices(a, false);
    assert.equal(listed.length, 1, listed.join("\n"));
    assert.match(listed[0]!, thisDevice);
  });

  await t.step("B's next page is the login form", async () => {
    await isSignedOut(b);
  });

  await t.step("B signs in again and A signs out all other devices", async () => {
    await signIn(b);
    assert.equal((await devices(a)).length, 2);
    assert.equal(await a.click("Sign out all other devices"), 200);
    assert.equal(a.url(), sessions);
    const listed = await devices(a, false);
    assert.equal(listed.length, 1, listed.join("\n"));
    assert.match(listed[0]!, thisDevice);
  });

  await t.step("B is signed out again, and A is still signed in", async () => {
    await isSignedOut(b);
    const listed = await devices(a);
    assert.equal(listed.length, 1, listed.join("\n"));
    assert.match(listed[0]!, thisDevice);
  });
}
