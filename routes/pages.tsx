/**
 * The HTML pages, written with Hono JSX so every interpolated value is escaped by
 * construction. Components only: no request handling here.
 *
 * Components are called as plain functions (`Layout({ title, children })`, not `<Layout>`):
 * with the `precompile` transform every element is then a ready-made string, and no Hono JSX
 * node is ever rendered. Rendering one sets up Hono's render context, whose first use probes
 * `node:async_hooks`; on Deno 2.9+ that loads Node's built-ins, which makes the first request
 * much slower (see bench/README.md, cold start). Routes hand a page to `c.html()` as
 * `String(page)`: given an object, `c.html()` first awaits the callbacks an async component
 * would leave, which these pages never have.
 *
 * @module
 */

import type { Child } from "hono/jsx";
import type { JSX } from "hono/jsx/jsx-runtime";
import { raw } from "hono/html";
import { type FieldErrors, type Greeting, MAX_NAME_LENGTH } from "./greeting.ts";

/** Path of the one stylesheet, allowed by the CSP's `style-src 'self'`. */
export const STYLESHEET_PATH = "/style.css";

/**
 * The stylesheet. Served from memory; an external file rather than inline styles, so the
 * Content-Security-Policy needs no hash or nonce.
 */
export const STYLESHEET =
  `/* Colours are chosen for WCAG AA in both schemes: text at least 4.5:1 on its background,
   borders and the focus ring at least 3:1 (tests/_browser_flow.ts measures them). */
:root {
  color-scheme: light dark;
  --page: #eef1f5; --card: #ffffff; --text: #1b1f24; --muted: #4a5361;
  --accent: #1d4ed8; --accent-hover: #1e3a8a; --on-accent: #ffffff;
  --border: #6b7280; --error: #b3261e; --error-bg: #fdecea; --focus: #1d4ed8; --rule: #d5dae1;
  font-family: system-ui, sans-serif; line-height: 1.5;
}
@media (prefers-color-scheme: dark) {
  :root {
    --page: #0f1216; --card: #1b2027; --text: #e8eaed; --muted: #b4bcc8;
    --accent: #8ab4f8; --accent-hover: #b6d0fb; --on-accent: #0b1220;
    --border: #8b95a3; --error: #ffb4ab; --error-bg: #3a1d1b; --focus: #8ab4f8; --rule: #2e3540;
  }
}
html { background: var(--page); color: var(--text); }
body { margin: 0; }
main {
  box-sizing: border-box; width: min(34rem, 100% - 2rem); margin: 2.5rem auto; padding: 2rem;
  background: var(--card); border-radius: 12px; box-shadow: 0 1px 3px #0003;
  /* A 100-character name without spaces must wrap, not widen the page. */
  overflow-wrap: anywhere;
}
@media (max-width: 30rem) { main { margin: 1rem auto; padding: 1.25rem; } }
h1 { font-size: 1.75rem; line-height: 1.2; margin: 0 0 1rem; }
p { margin: 0 0 1rem; }
a { color: var(--accent); text-underline-offset: 0.15em; }
form { display: grid; gap: 1.25rem; margin: 1.5rem 0 0; }
.field { display: grid; gap: 0.3rem; }
label { font-weight: 600; }
input {
  box-sizing: border-box; width: 100%; font: inherit; color: var(--text); background: var(--card);
  padding: 0.5rem 0.75rem; border: 1px solid var(--border); border-radius: 6px;
}
/* Invalid: a thicker red border, so the outline stays free for the focus ring. */
input[aria-invalid="true"] { border: 2px solid var(--error); }
:focus-visible, input:focus { outline: 3px solid var(--focus); outline-offset: 2px; }
button {
  justify-self: start; font: inherit; font-weight: 600; cursor: pointer;
  padding: 0.5rem 1.25rem; border: 2px solid var(--accent); border-radius: 6px;
  color: var(--on-accent); background: var(--accent);
}
button:hover { background: var(--accent-hover); border-color: var(--accent-hover); }
.visitor button { color: var(--accent); background: transparent; }
.visitor button:hover { color: var(--on-accent); background: var(--accent-hover); }
.visitor { display: flex; flex-wrap: wrap; align-items: center; gap: 0.75rem 1.5rem; }
.visitor p, .visitor form { margin: 0; }
/* Decorative: separates what the visitor has from the form to change it. */
.visitor + form { border-top: 1px solid var(--rule); padding-top: 1.5rem; }
.error { color: var(--error); margin: 0; }
.summary {
  margin: 0 0 1rem; padding: 0.75rem 1rem; border-left: 4px solid var(--error);
  background: var(--error-bg);
}
.summary p { margin: 0; }
.back { margin: 1.5rem 0 0; }
.check { display: flex; gap: 0.5rem; align-items: center; }
.check input { width: auto; margin: 0; }
.check label { font-weight: normal; }
/* A checkbox draws no border of its own: the invalid state is a red ring around it. */
.check input[aria-invalid="true"] { border: 0; box-shadow: 0 0 0 2px var(--error); }
.hint { margin: 0; color: var(--muted); font-size: 0.9em; }
`;

const DOCTYPE = raw("<!DOCTYPE html>");

/** Props of {@linkcode Layout}. */
export interface LayoutProps {
  /** The document title, also the page's heading. */
  title: string;
  /** The page content, inside `<main>`. */
  children?: Child;
}

/**
 * The document around every page: language, title, the stylesheet and a main landmark.
 *
 * @param props The title and content.
 * @returns The whole HTML document.
 */
export function Layout({ title, children }: LayoutProps): JSX.Element {
  return (
    <>
      {DOCTYPE}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{title} · Sealed Sessions</title>
          <link rel="stylesheet" href={STYLESHEET_PATH} />
        </head>
        <body>
          <main>
            <h1>{title}</h1>
            {children}
          </main>
        </body>
      </html>
    </>
  );
}

/** What the pages tell a visitor about how long their session lasts. */
export interface SessionLifetime {
  /** True for a cookie kept across browser restarts ("Remember me"), false for a browser-session one. */
  persistent: boolean;
  /**
   * The sealed absolute expiry, from {@linkcode describeExpiry}, if the session has one yet.
   */
  until?: ExpiryText | undefined;
}

/** An instant as a `<time>` element shows it. */
export interface ExpiryText {
  /** Machine-readable, for the `datetime` attribute: `2026-12-13T11:15:00.000Z`. */
  datetime: string;
  /** As shown: `2026-12-13 11:15 UTC`. */
  text: string;
}

/**
 * An instant as the pages show it: ISO 8601 for machines, minutes in UTC for people.
 *
 * @param date The instant.
 * @returns Both spellings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeExpiry } from "./pages.tsx";
 *
 * assert.deepEqual(describeExpiry(new Date("2026-12-13T11:15:42Z")), {
 *   datetime: "2026-12-13T11:15:42.000Z",
 *   text: "2026-12-13 11:15 UTC",
 * });
 * ```
 */
export function describeExpiry(date: Date): ExpiryText {
  const datetime = date.toISOString();
  return { datetime, text: `${datetime.slice(0, 10)} ${datetime.slice(11, 16)} UTC` };
}

/** Props of {@linkcode HomePage}. */
export interface HomePageProps {
  /** What the session holds; the visitor is greeted when it has a name. */
  greeting?: Partial<Greeting> | undefined;
  /** The kind of session a known visitor has, said on the welcome-back page. */
  lifetime?: SessionLifetime | undefined;
  /** Values to put back in the form after a refused post. */
  values?: Readonly<Record<string, unknown>> | undefined;
  /** Why each field was refused, shown next to it. */
  errors?: FieldErrors | undefined;
}

/**
 * `GET /`: the greeting form, and for a known visitor a welcome with links to the session
 * data and a logout button. Also the 400 page of `POST /greeting`, with the errors.
 *
 * @param props What the session holds, and the refused values and errors if any.
 * @returns The page.
 */
export function HomePage({ greeting, lifetime, values, errors }: HomePageProps): JSX.Element {
  const known = greeting?.name !== undefined;
  const title = errors
    ? (errors.name || errors.lastname ? "Please check your name" : "Please check the form")
    : known
    ? `Welcome back, ${fullName(greeting)}`
    : "Hello, who are you?";
  return Layout({
    title,
    children: (
      <>
        {errors && ErrorSummary({ errors })}
        {known && lifetime && LifetimeNote({ lifetime })}
        {known && VisitorLinks()}
        <form method="post" action="/greeting">
          {NameField({
            id: "name",
            label: "First name",
            autocomplete: "given-name",
            value: textValue(values?.name) ?? greeting?.name,
            error: errors?.name,
            autofocus: errors?.name !== undefined,
          })}
          {NameField({
            id: "lastname",
            label: "Last name",
            autocomplete: "family-name",
            value: textValue(values?.lastname) ?? greeting?.lastname,
            error: errors?.lastname,
            autofocus: errors?.name === undefined && errors?.lastname !== undefined,
          })}
          {RememberField({
            checked: values
              ? values.remember === "on" || values.remember === true
              : known && lifetime?.persistent === true,
            error: errors?.remember,
            autofocus: errors?.remember !== undefined && errors.name === undefined &&
              errors.lastname === undefined,
          })}
          <button type="submit">{known ? "Change my name" : "Greet me"}</button>
        </form>
      </>
    ),
  });
}

/**
 * `POST /greeting`: the greeting itself.
 *
 * @param props The saved greeting.
 * @returns The page.
 */
export function GreetingPage(
  { greeting, lifetime }: { greeting: Greeting; lifetime?: SessionLifetime | undefined },
): JSX.Element {
  return Layout({
    title: `Hello ${fullName(greeting)}`,
    children: (
      <>
        <p>Your name is saved in an encrypted session cookie.</p>
        {lifetime && LifetimeNote({ lifetime })}
        {VisitorLinks()}
        <p class="back">
          <a href="/">Back to the start page</a>
        </p>
      </>
    ),
  });
}

/**
 * `GET /session-data`: what the session holds, as the Flask original printed it.
 *
 * @param props What the session holds.
 * @returns The page.
 */
export function SessionDataPage({ greeting }: { greeting: Partial<Greeting> }): JSX.Element {
  return Layout({
    title: "Session data",
    children: (
      <>
        <p id="session-data">{sessionDataLine(greeting)}</p>
        <p class="back">
          <a href="/">Back to the start page</a>
        </p>
      </>
    ),
  });
}

/** Props of {@linkcode MessagePage}. */
export interface MessagePageProps {
  /** The heading, e.g. `Page not found`. */
  title: string;
  /** Sentences explaining what happened. */
  messages: readonly string[];
}

/**
 * A page for errors and refusals: 400, 403, 404, 413, 415 and 500.
 *
 * @param props The heading and the explanation.
 * @returns The page.
 */
export function MessagePage({ title, messages }: MessagePageProps): JSX.Element {
  return Layout({
    title,
    children: (
      <>
        {
          // Rendered once to a string, never reconciled: with the precompile transform a key
          // would only be written out as a stray `key="…"` attribute.
          // deno-lint-ignore jsx-key
          messages.map((message) => <p>{message}</p>)
        }
        <p class="back">
          <a href="/">Back to the start page</a>
        </p>
      </>
    ),
  });
}

/**
 * The session data line, empty strings standing for absent names as in the Flask original:
 * `Session Data: Ada Lovelace`, or `Session Data:  ` for an empty session.
 *
 * @param greeting What the session holds.
 * @returns The line.
 */
export function sessionDataLine(greeting: Partial<Greeting>): string {
  return `Session Data: ${greeting.name ?? ""} ${greeting.lastname ?? ""}`;
}

/**
 * The full name, e.g. `Ada Lovelace`; absent parts are left out.
 *
 * @param greeting What the session holds.
 * @returns The name.
 */
export function fullName(greeting: Partial<Greeting> | undefined): string {
  return [greeting?.name, greeting?.lastname].filter((part) => part !== undefined).join(" ");
}

/**
 * Which kind of session the visitor has: remembered on this device, or ended with the browser.
 * Both still end at the sealed expiry.
 */
function LifetimeNote({ lifetime }: { lifetime: SessionLifetime }): Child {
  const { persistent } = lifetime;
  const until = lifetime.until && (
    <time datetime={lifetime.until.datetime}>{lifetime.until.text}</time>
  );
  if (persistent) {
    return (
      <p id="session-kind">
        This device remembers you
        {until ? <>{" until "}{until} at the latest</> : ""}, even after you close your browser.
      </p>
    );
  }
  return (
    <p id="session-kind">
      You will be forgotten when you close your browser
      {until ? <>{" (or on "}{until}, if it stays open)</> : ""}.
    </p>
  );
}

interface RememberFieldProps {
  checked: boolean;
  error: string | undefined;
  /** Focus it on load when it is the first invalid field. */
  autofocus: boolean;
}

// A plain checkbox: its label is clickable, and the form sends remember=on only when ticked.
function RememberField({ checked, error, autofocus }: RememberFieldProps): Child {
  return (
    <div class="field">
      <div class="check">
        <input
          id="remember"
          name="remember"
          type="checkbox"
          checked={checked}
          aria-describedby={error ? "remember-hint remember-error" : "remember-hint"}
          aria-invalid={error ? "true" : undefined}
          autofocus={autofocus || undefined}
        />
        <label for="remember">Remember me on this device</label>
      </div>
      <p id="remember-hint" class="hint">
        Leave it unticked on a shared computer: you are forgotten when the browser closes.
      </p>
      {error && <p id="remember-error" class="error">Remember me {error}.</p>}
    </div>
  );
}

function VisitorLinks(): Child {
  return (
    <div class="visitor">
      <p>
        <a href="/session-data">See what your session holds</a>
      </p>
      <form method="post" action="/logout">
        <button type="submit">Log out</button>
      </form>
    </div>
  );
}

const FIELD_LABELS: Record<keyof FieldErrors, string> = {
  name: "First name",
  lastname: "Last name",
  remember: "Remember me",
};

// Names the fields to fix, each a link to its input; the messages themselves are shown once,
// under their fields (and read with them, through aria-describedby).
function ErrorSummary({ errors }: { errors: FieldErrors }): Child {
  const fields = (Object.keys(FIELD_LABELS) as (keyof FieldErrors)[]).filter((id) => errors[id]);
  return (
    <div role="alert" class="summary">
      <p>
        The greeting was not saved. Please check {fields.map((id, i) => [
          i > 0 ? " and " : "",
          // No key, as in MessagePage: it would be written out as an attribute.
          // deno-lint-ignore jsx-key
          <a href={`#${id}`}>{FIELD_LABELS[id]}</a>,
        ])}.
      </p>
    </div>
  );
}

interface NameFieldProps {
  id: keyof Greeting;
  label: string;
  autocomplete: string;
  value: string | undefined;
  error: string | undefined;
  /** Focus this field on load: the first invalid one, since the CSP allows no script. */
  autofocus: boolean;
}

function NameField(
  { id, label, autocomplete, value, error, autofocus }: NameFieldProps,
): Child {
  const errorId = `${id}-error`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        name={id}
        type="text"
        required
        maxlength={MAX_NAME_LENGTH}
        autocomplete={autocomplete}
        value={value}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={error ? errorId : undefined}
        autofocus={autofocus || undefined}
      />
      {error && <p id={errorId} class="error">{label} {error}.</p>}
    </div>
  );
}

function textValue(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
