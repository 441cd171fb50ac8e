/**
 * The routes of the bare load-test servers (`bare.ts`, `bare_secure_headers.ts`, and the greeting
 * of `bare_secure_json.ts`): the same work as the session contenders minus the sealing, the
 * session kept in a plain cookie.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import {
  type Greeting,
  INVALID_FORM,
  MAX_AGE,
  PRIVATE_HEADERS,
  readGreeting,
  wantsJson,
} from "./_shared.ts";

const COOKIE = "name";

/**
 * `POST /greeting` of the bare servers: reads and validates the form like every contender and
 * keeps the greeting in a plain cookie.
 *
 * @param c The request's context.
 * @returns The greeting (text or JSON), or 400.
 */
export async function postGreeting(c: Context): Promise<Response> {
  const greeting = await readGreeting(c.req.raw);
  if (greeting === undefined) return c.text(INVALID_FORM, 400, PRIVATE_HEADERS);
  setCookie(c, COOKIE, JSON.stringify(greeting), {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    maxAge: MAX_AGE,
  });
  const text = `Hello ${greeting.name} ${greeting.lastname}`;
  if (wantsJson(c.req.raw)) return c.json({ greeting: text }, 200, PRIVATE_HEADERS);
  return c.text(text, 200, PRIVATE_HEADERS);
}

/**
 * Adds `POST /greeting` and `GET /session-data` to an app.
 *
 * @param app The app, possibly with middleware already added.
 * @returns The same app.
 */
export function createBareApp(app: Hono): Hono {
  app.post("/greeting", postGreeting);

  app.get("/session-data", (c) => {
    const data = parse(getCookie(c, COOKIE));
    if (wantsJson(c.req.raw)) {
      const json = { name: data?.name ?? null, lastname: data?.lastname ?? null };
      return c.json(json, 200, PRIVATE_HEADERS);
    }
    return c.text(
      `Session Data: ${data?.name ?? ""} ${data?.lastname ?? ""}`,
      200,
      PRIVATE_HEADERS,
    );
  });
  return app;
}

function parse(value: string | undefined): Partial<Greeting> | undefined {
  if (value === undefined) return undefined;
  try {
    const data: unknown = JSON.parse(value);
    return typeof data === "object" && data !== null ? data as Partial<Greeting> : undefined;
  } catch {
    return undefined;
  }
}
