/**
 * The real-browser flow of the greeting service, written once for every browser: a visitor
 * greets, reads the session data, is welcomed back, is remembered, logs out and has an invalid
 * name refused, with no console error and no Content-Security-Policy violation on the way.
 *
 * Each browser test wraps its automation library in a {@linkcode BrowserPage} (Playwright for
 * Chromium in `browser_test.ts`, Puppeteer over WebDriver BiDi for Firefox in
 * `browser_firefox_test.ts`) and runs these steps on it, in this order:
 * {@linkcode greetAndLogOut}, {@linkcode refuseAnInvalidName}, the look
 * ({@linkcode checkTheFocusRing}, {@linkcode checkTheContrast} in each colour scheme,
 * {@linkcode checkTheWrapping}), then {@linkcode checkTheCsp}.
 *
 * @module
 */

import assert from "node:assert/strict";

/** A cookie as the browser's jar holds it. */
export interface BrowserCookie {
  /** The cookie's name. */
  name: string;
  /** When it expires, in seconds since the epoch; `undefined` for a browser-session cookie. */
  expires: number | undefined;
}

/** Something the page reported: a console message or an uncaught error. */
export interface PageMessage {
  /** The console method (`"error"`, `"warning"`, `"log"`, …), or `"pageerror"`. */
  type: string;
  /** Its text. */
  text: string;
}

/**
 * What the flow needs of a browser: one page, its fields and buttons found by their
 * accessible names, as assistive technology finds them.
 */
export interface BrowserPage {
  /** Loads `url`; resolves with the HTTP status of the document once it has loaded. */
  goto(url: string): Promise<number>;
  /** The URL of the current document. */
  url(): string;
  /** The document's title. */
  title(): Promise<string>;
  /** The text content of the first element matching the CSS `selector`. */
  text(selector: string): Promise<string>;
  /** The attribute `name` of the first element matching the CSS `selector`, or `null`. */
  attribute(selector: string, name: string): Promise<string | null>;
  /** Evaluates a JavaScript expression in the page (a string: Deno's type check knows no DOM). */
  evaluate<T>(expression: string): Promise<T>;
  /** Types `value` into the text field labelled `label`, replacing what it holds. */
  fill(label: string, value: string): Promise<void>;
  /** Whether the checkbox labelled `label` is ticked. */
  isChecked(label: string): Promise<boolean>;
  /** Ticks the checkbox labelled `label`. */
  check(label: string): Promise<void>;
  /**
   * Clicks the button or link named `name` and waits until the document it leads to (after
   * any redirect) has loaded; resolves with that document's HTTP status.
   */
  click(role: "button" | "link", name: string): Promise<number>;
  /** Gives the focus to the first element matching the CSS `selector`. */
  focus(selector: string): Promise<void>;
  /** Moves the mouse over the first element matching the CSS `selector`. */
  hover(selector: string): Promise<void>;
  /** Resizes the page's viewport, in CSS pixels. */
  setViewport(width: number, height: number): Promise<void>;
  /** The cookies of the page's origin. */
  cookies(): Promise<BrowserCookie[]>;
  /** Calls `listener` with every console message and uncaught error of the page. */
  onMessage(listener: (message: PageMessage) => void): void;
}

// How Chromium ("… violates the following Content Security Policy directive …") and Firefox
// ("Content-Security-Policy: The page’s settings blocked …") word a violation.
const CSP_VIOLATION = /Content[- ]Security[- ]Policy/i;

/** The errors and CSP violations a page has reported so far. */
export interface ConsoleWatch {
  /** Console errors and uncaught errors, but for CSP violations and {@linkcode expectedError}. */
  readonly errors: string[];
  /** Content-Security-Policy violations, as reported to the console. */
  readonly violations: string[];
  /** A console error a step expects from now on (Chromium logs every 4xx answer as one). */
  expectedError: RegExp | undefined;
}

/**
 * Starts collecting what `page` reports. Call it before the first step.
 *
 * @param page The page.
 * @returns The errors and violations, filled in as they come.
 */
export function watchConsole(page: BrowserPage): ConsoleWatch {
  const watch: ConsoleWatch = { errors: [], violations: [], expectedError: undefined };
  page.onMessage(({ type, text }) => {
    if (CSP_VIOLATION.test(text)) watch.violations.push(text);
    else if ((type === "error" || type === "pageerror") && !watch.expectedError?.test(text)) {
      watch.errors.push(text);
    }
  });
  return watch;
}

/** `SESSION_MAX_AGE` of the service under test: its default, two weeks. */
const MAX_AGE = 1_209_600;

/**
 * Greets as Ada Lovelace through the form, checks the browser-session cookie, the stylesheet,
 * the session data page and the welcome back, ticks Remember me and checks the persistent
 * cookie, then logs out.
 *
 * @param t The test context; each check is a step.
 * @param page The page, fresh: no cookie yet.
 * @param url The service's base URL, without a trailing slash.
 * @param watch What the page reported, from {@linkcode watchConsole}.
 */
export async function greetAndLogOut(
  t: Deno.TestContext,
  page: BrowserPage,
  url: string,
  watch: ConsoleWatch,
): Promise<void> {
  await t.step("the start page offers the form", async () => {
    assert.equal(await page.goto(`${url}/`), 200);
    assert.equal(await page.attribute("html", "lang"), "en");
    assert.match(await page.title(), /Hello, who are you\?/);
    await page.fill("First name", "Ada");
    await page.fill("Last name", "Lovelace");
  });

  await t.step("submitting it shows the greeting", async () => {
    assert.equal(await page.click("button", "Greet me"), 200);
    assert.equal(page.url(), `${url}/greeting`);
    assert.equal(await page.text("h1"), "Hello Ada Lovelace");
  });

  await t.step("without Remember me, the cookie ends with the browser session", async () => {
    assert.deepEqual(await page.cookies(), [{ name: "sealed", expires: undefined }]);
    assert.match(await page.text("#session-kind"), /forgotten when you close your browser/);
  });

  await t.step("the stylesheet applied: the CSP let it through", async () => {
    const font = await page.evaluate<string>(
      "getComputedStyle(document.documentElement).fontFamily",
    );
    assert.match(font, /system-ui/);
  });

  await t.step("the session data page shows the name", async () => {
    assert.equal(await page.click("link", "See what your session holds"), 200);
    assert.equal(page.url(), `${url}/session-data`);
    assert.equal(await page.text("#session-data"), "Session Data: Ada Lovelace");
  });

  await t.step("the start page welcomes the visitor back", async () => {
    assert.equal(await page.goto(`${url}/`), 200);
    assert.match(await page.text("h1"), /Welcome back, Ada Lovelace/);
  });

  await t.step("ticking Remember me keeps the cookie for SESSION_MAX_AGE", async () => {
    assert.equal(await page.isChecked("Remember me on this device"), false);
    await page.check("Remember me on this device");
    const before = Date.now() / 1000;
    assert.equal(await page.click("button", "Change my name"), 200);
    assert.equal(page.url(), `${url}/greeting`);
    const cookies = await page.cookies();
    assert.deepEqual(cookies.map((cookie) => cookie.name), ["sealed"]);
    // Max-Age, counted from the response.
    const expires = cookies[0]!.expires;
    assert.ok(
      expires !== undefined && expires >= before + MAX_AGE - 5 &&
        expires <= Date.now() / 1000 + MAX_AGE + 5,
      `expires ${expires}, expected about ${before + MAX_AGE}`,
    );
    assert.match(await page.text("#session-kind"), /remembers you/);
    await page.goto(`${url}/`);
    assert.equal(await page.isChecked("Remember me on this device"), true);
  });

  await t.step("logging out returns to the form and forgets the name", async () => {
    assert.equal(await page.click("button", "Log out"), 200);
    assert.equal(page.url(), `${url}/`);
    assert.match(await page.title(), /Hello, who are you\?/);
    assert.deepEqual(await page.cookies(), []);
    await page.goto(`${url}/session-data`);
    assert.equal(await page.text("#session-data"), "Session Data:  ");
  });

  await t.step("no console errors along the way", () => {
    assert.deepEqual(watch.errors, []);
  });
}

/**
 * Submits a blank first name and checks the refusal: a 400, the summary naming the field and
 * linking to it, the message under the field and tied to it, shown once, focus on the field.
 * Leaves the refused form on the page.
 *
 * @param t The test context; each check is a step.
 * @param page The page, on any document of the service, with no session.
 * @param url The service's base URL, without a trailing slash.
 * @param watch What the page reported: the 400 it logs is expected from here on.
 */
export async function refuseAnInvalidName(
  t: Deno.TestContext,
  page: BrowserPage,
  url: string,
  watch: ConsoleWatch,
): Promise<void> {
  await t.step("an invalid name is refused with an accessible message", async () => {
    watch.expectedError = /status of 400/;
    await page.goto(`${url}/`);
    await page.fill("First name", "   ");
    await page.fill("Last name", "Lovelace");
    assert.equal(await page.click("button", "Greet me"), 400);
    assert.equal(page.url(), `${url}/greeting`);
    assert.match(await page.text("[role=alert]"), /not saved\. Please check First name\./);
    // The message is read with its field, and the summary links to the field.
    assert.equal(await page.attribute("#name", "aria-describedby"), "name-error");
    assert.equal(
      await page.text("#name-error"),
      "First name must not be blank (whitespace only).",
    );
    assert.equal(await page.attribute("[role=alert] a", "href"), "#name");
  });

  await t.step("each error message is shown once", async () => {
    const text = await page.evaluate<string>("document.body.innerText");
    assert.equal(text.split("must not be blank").length - 1, 1, text);
  });

  await t.step("focus is on the first invalid field, with no script", async () => {
    assert.equal(await page.evaluate<string>("document.activeElement.id"), "name");
  });
}

/**
 * Checks the focus ring of the refused form {@linkcode refuseAnInvalidName} leaves: the
 * focused invalid field shows one, unlike its unfocused look.
 *
 * @param t The test context; the check is a step.
 * @param page The page, on the refused form, the first name focused.
 */
export async function checkTheFocusRing(t: Deno.TestContext, page: BrowserPage): Promise<void> {
  await t.step(
    "the focused invalid field shows a focus ring unlike its unfocused look",
    async () => {
      const focused = await computed(page, "#name", ["outlineStyle", "outlineWidth"]);
      assert.notEqual(focused.outlineStyle, "none");
      assert.ok(parseFloat(focused.outlineWidth!) >= 2, `outline ${focused.outlineWidth}`);
      await page.focus("#lastname");
      const unfocused = await computed(page, "#name", ["outlineStyle"]);
      assert.equal(unfocused.outlineStyle, "none", "without focus, no ring");
      assert.equal(await page.attribute("#name", "aria-invalid"), "true");
    },
  );
}

/**
 * Measures the key colour pairs of the refused form and of the welcome-back page, in each state
 * (rest, hover, focus, invalid), against WCAG AA: 4.5:1 for text, 3:1 for borders and focus
 * rings against what they sit on. Leaves no session.
 *
 * @param t The test context; the check is a step.
 * @param page The page, its browser already in `scheme`.
 * @param url The service's base URL, without a trailing slash.
 * @param scheme The colour scheme the browser prefers: checked, then measured.
 */
export async function checkTheContrast(
  t: Deno.TestContext,
  page: BrowserPage,
  url: string,
  scheme: "light" | "dark",
): Promise<void> {
  await t.step(`every state meets WCAG AA contrast in ${scheme} mode`, async () => {
    const failures = await contrastFailures(page, url);
    assert.equal(
      await page.evaluate<boolean>("matchMedia('(prefers-color-scheme: dark)').matches"),
      scheme === "dark",
      `the browser prefers the ${scheme} scheme`,
    );
    assert.deepEqual(failures, []);
  });
}

/**
 * Greets with a 100-character name without spaces on a 390 px wide viewport and checks that no
 * page then scrolls sideways; logs out at the end.
 *
 * @param t The test context; the check is a step.
 * @param page The page, with no session.
 * @param url The service's base URL, without a trailing slash.
 */
export async function checkTheWrapping(
  t: Deno.TestContext,
  page: BrowserPage,
  url: string,
): Promise<void> {
  await t.step("a 100-character name without spaces wraps on a 390 px phone", async () => {
    await page.setViewport(390, 844);
    const long = "W".repeat(100);
    await page.goto(`${url}/`);
    await page.fill("First name", long);
    await page.fill("Last name", long);
    assert.equal(await page.click("button", "Greet me"), 200);
    assert.equal(await page.text("h1"), `Hello ${long} ${long}`);
    await assertNoHorizontalOverflow(page, "the greeting page");
    await page.goto(`${url}/`);
    assert.match(await page.text("h1"), /^Welcome back, W{100}/);
    await assertNoHorizontalOverflow(page, "the welcome-back page");
    await page.goto(`${url}/session-data`);
    await assertNoHorizontalOverflow(page, "the session data page");
    await page.goto(`${url}/`);
    assert.equal(await page.click("button", "Log out"), 200);
  });
}

// Computed style properties of the first element matching `selector`.
async function computed(
  page: BrowserPage,
  selector: string,
  properties: readonly string[],
): Promise<Record<string, string>> {
  return await page.evaluate<Record<string, string>>(`(() => {
    const style = getComputedStyle(document.querySelector(${JSON.stringify(selector)}));
    return Object.fromEntries(${JSON.stringify(properties)}.map((p) => [p, style[p]]));
  })()`);
}

async function assertNoHorizontalOverflow(page: BrowserPage, what: string): Promise<void> {
  const { scrollWidth, clientWidth } = await page.evaluate<
    { scrollWidth: number; clientWidth: number }
  >(
    "({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth })",
  );
  assert.ok(scrollWidth <= clientWidth, `${what} is ${scrollWidth} px wide in ${clientWidth} px`);
}

// sRGB relative luminance and contrast ratio, as WCAG 2 defines them.
function luminance(color: string): number {
  const match = color.match(
    /^rgba?\((\d+(?:\.\d+)?), (\d+(?:\.\d+)?), (\d+(?:\.\d+)?)(?:, ([\d.]+))?\)$/,
  );
  assert.ok(match, `an opaque rgb() colour, received ${color}`);
  assert.ok(match[4] === undefined || match[4] === "1", `an opaque colour, received ${color}`);
  const [r, g, b] = [match[1], match[2], match[3]].map((part) => {
    const c = Number(part) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

// The colour pairs below AA, as "what: fg on bg is r:1 < min:1".
async function contrastFailures(page: BrowserPage, url: string): Promise<string[]> {
  const failures: string[] = [];
  const check = (what: string, fg: string, bg: string, min: number) => {
    const ratio = contrast(fg, bg);
    if (ratio < min) failures.push(`${what}: ${fg} on ${bg} is ${ratio.toFixed(2)}:1 < ${min}:1`);
  };
  const style = async (selector: string) =>
    await computed(page, selector, [
      "color",
      "backgroundColor",
      "borderTopColor",
      "outlineColor",
      "outlineStyle",
    ]);

  // The form refused: a blank first name and a valid last name.
  await page.goto(`${url}/`);
  await page.fill("First name", " ");
  await page.fill("Last name", "Lovelace");
  assert.equal(await page.click("button", "Greet me"), 400);
  const card = (await style("main")).backgroundColor!;
  check(
    "page background behind the card",
    (await style("h1")).color!,
    (await style("html")).backgroundColor!,
    4.5,
  );
  check("heading", (await style("h1")).color!, card, 4.5);
  check("label", (await style("label")).color!, card, 4.5);
  const summary = await style(".summary");
  check("summary text", (await style(".summary p")).color!, summary.backgroundColor!, 4.5);
  check("summary link", (await style(".summary a")).color!, summary.backgroundColor!, 4.5);
  check("field error message", (await style(".error")).color!, card, 4.5);
  const invalidFocused = await style("#name");
  check("invalid field border", invalidFocused.borderTopColor!, card, 3);
  check("focus ring on the invalid field", invalidFocused.outlineColor!, card, 3);
  assert.notEqual(invalidFocused.outlineStyle, "none", "the invalid field has focus here");
  const valid = await style("#lastname");
  check("input text", valid.color!, valid.backgroundColor!, 4.5);
  check("input border", valid.borderTopColor!, card, 3);
  await page.focus("#lastname");
  check("focus ring on a valid field", (await style("#lastname")).outlineColor!, card, 3);
  const button = await style("button[type=submit]");
  check("button text", button.color!, button.backgroundColor!, 4.5);
  check("button edge", button.backgroundColor!, card, 3);
  await page.hover("button[type=submit]");
  const hovered = await style("button[type=submit]");
  check("button text on hover", hovered.color!, hovered.backgroundColor!, 4.5);

  // The welcome-back page: links and the secondary (log out) button.
  await page.fill("First name", "Ada");
  assert.equal(await page.click("button", "Greet me"), 200);
  await page.goto(`${url}/`);
  check("link", (await style("a")).color!, card, 4.5);
  const logout = await style(".visitor button");
  check("secondary button text", logout.color!, card, 4.5);
  check("secondary button border", logout.borderTopColor!, card, 3);
  await page.hover(".visitor button");
  const logoutHover = await style(".visitor button");
  check("secondary button text on hover", logoutHover.color!, logoutHover.backgroundColor!, 4.5);
  await page.hover("h1");
  assert.equal(await page.click("button", "Log out"), 200);
  return failures;
}

/**
 * The last steps: no CSP violation and no unexpected error on any page so far, and a check
 * that the watch does see a violation (an inline style, which `style-src 'self'` refuses), so
 * that "none" means none.
 *
 * @param t The test context; each check is a step.
 * @param page The page, on a document of the service.
 * @param watch What the page reported.
 */
export async function checkTheCsp(
  t: Deno.TestContext,
  page: BrowserPage,
  watch: ConsoleWatch,
): Promise<void> {
  await t.step("no Content-Security-Policy violation on any page", () => {
    assert.deepEqual(watch.violations, []);
    assert.deepEqual(watch.errors, []);
  });

  await t.step("a violation would have been seen: an inline style is refused", async () => {
    await page.evaluate<void>(`(() => {
      const style = document.createElement("style");
      style.textContent = "html { font-family: serif }";
      document.head.append(style);
    })()`);
    const deadline = Date.now() + 5_000;
    while (watch.violations.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(watch.violations.length, 1, watch.violations.join("\n"));
    assert.match(watch.violations[0]!, /style-src/);
    assert.match(
      await page.evaluate<string>("getComputedStyle(document.documentElement).fontFamily"),
      /system-ui/,
    );
  });
}
