/**
 * The HTML pages, written with Hono JSX so every interpolated value is escaped by
 * construction. Components only: no request handling here.
 *
 * Components are called as plain functions (`Layout({ title, children })`, not `<Layout>`):
 * with the `precompile` transform every element is then a ready-made string, and no Hono JSX
 * node is ever rendered. Rendering one sets up Hono's render context, whose first use probes
 * `node:async_hooks`; on Deno 2.9+ that loads Node's built-ins, tens of milliseconds on the
 * first request (see bench/RESULTS-cold.md).
 *
 * @module
 */

import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import { type FieldErrors, type Greeting, MAX_NAME_LENGTH } from "./greeting.ts";

/** Path of the one stylesheet, allowed by the CSP's `style-src 'self'`. */
export const STYLESHEET_PATH = "/style.css";

/**
 * The stylesheet. Served from memory; an external file rather than inline styles, so the
 * Content-Security-Policy needs no hash or nonce.
 */
export const STYLESHEET =
  `:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
body { margin: 0; }
main { max-width: 36rem; margin: 2rem auto; padding: 0 1rem; }
form { display: grid; gap: 0.75rem; margin: 1rem 0; }
label { font-weight: 600; }
input { font: inherit; padding: 0.4rem 0.5rem; }
button { font: inherit; padding: 0.4rem 1rem; justify-self: start; cursor: pointer; }
.error { color: #b00020; margin: 0; }
@media (prefers-color-scheme: dark) { .error { color: #ff8a80; } }
[aria-invalid="true"] { outline: 2px solid #b00020; }
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
export function Layout({ title, children }: LayoutProps): Child {
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

/** Props of {@linkcode HomePage}. */
export interface HomePageProps {
  /** What the session holds; the visitor is greeted when it has a name. */
  greeting?: Partial<Greeting> | undefined;
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
export function HomePage({ greeting, values, errors }: HomePageProps): Child {
  const known = greeting?.name !== undefined;
  const title = errors
    ? "Please check your name"
    : known
    ? `Welcome back, ${fullName(greeting)}`
    : "Hello, who are you?";
  return Layout({
    title,
    children: (
      <>
        {errors && (
          <div role="alert">
            <p>The greeting could not be saved:</p>
            <ul>
              {errors.name && <li>First name {errors.name}.</li>}
              {errors.lastname && <li>Last name {errors.lastname}.</li>}
            </ul>
          </div>
        )}
        {known && VisitorLinks()}
        <form method="post" action="/greeting">
          {NameField({
            id: "name",
            label: "First name",
            autocomplete: "given-name",
            value: textValue(values?.name) ?? greeting?.name,
            error: errors?.name,
          })}
          {NameField({
            id: "lastname",
            label: "Last name",
            autocomplete: "family-name",
            value: textValue(values?.lastname) ?? greeting?.lastname,
            error: errors?.lastname,
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
export function GreetingPage({ greeting }: { greeting: Greeting }): Child {
  return Layout({
    title: `Hello ${fullName(greeting)}`,
    children: (
      <>
        <p>Your name is saved in an encrypted session cookie.</p>
        {VisitorLinks()}
        <p>
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
export function SessionDataPage({ greeting }: { greeting: Partial<Greeting> }): Child {
  return Layout({
    title: "Session data",
    children: (
      <>
        <p id="session-data">{sessionDataLine(greeting)}</p>
        <p>
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
export function MessagePage({ title, messages }: MessagePageProps): Child {
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
        <p>
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

function VisitorLinks(): Child {
  return (
    <>
      <p>
        <a href="/session-data">See what your session holds</a>
      </p>
      <form method="post" action="/logout">
        <button type="submit">Log out</button>
      </form>
    </>
  );
}

interface NameFieldProps {
  id: keyof Greeting;
  label: string;
  autocomplete: string;
  value: string | undefined;
  error: string | undefined;
}

function NameField({ id, label, autocomplete, value, error }: NameFieldProps): Child {
  const errorId = `${id}-error`;
  return (
    <>
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
      />
      {error && <p id={errorId} class="error">{label} {error}.</p>}
    </>
  );
}

function textValue(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
