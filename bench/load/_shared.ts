/**
 * Shared pieces of the load-test servers in this folder: the secret, the form reading and
 * validation every contender does (the same work for all, close to what `routes/body.ts` and
 * `routes/greeting.ts` do for the real service), and start-up on `127.0.0.1:$PORT`.
 *
 * @module
 */

/** Secret of the session contenders: 64 hex characters, so 32 bytes as hex and 64 as text. */
export const SECRET = "4f1c7e0b9a2d3c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6";

/** Session lifetime of every contender: 14 days, the service's default. */
export const MAX_AGE = 1_209_600;

/** What a greeting stores. */
export type Greeting = { name: string; lastname: string };

/** Headers of responses showing session data, as the service sends them. */
export const PRIVATE_HEADERS: Readonly<Record<string, string>> = {
  "Cache-Control": "no-store",
  "Vary": "Accept",
};

const FORM = "application/x-www-form-urlencoded";
const MAX_BODY_BYTES = 16 * 1024;
const MAX_FIELD_LENGTH = 100;

/**
 * Reads a posted URL-encoded form and validates it: both fields present, trimmed, non-empty
 * and at most 100 characters.
 *
 * @param request The request; its body is consumed.
 * @returns The greeting, or `undefined` when the body is missing, too large or invalid.
 */
export async function readGreeting(request: Request): Promise<Greeting | undefined> {
  const type = (request.headers.get("content-type") ?? "").split(";", 1)[0]!.trim().toLowerCase();
  if (type !== FORM) {
    await request.body?.cancel();
    return undefined;
  }
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) return undefined;
  const form = new URLSearchParams(text);
  const name = form.get("name")?.trim();
  const lastname = form.get("lastname")?.trim();
  if (!name || !lastname || name.length > MAX_FIELD_LENGTH) return undefined;
  if (lastname.length > MAX_FIELD_LENGTH) return undefined;
  return { name, lastname };
}

/**
 * Whether a request asked for JSON (`Accept` names `application/json`): then the contenders
 * answer as the service does, `{"name":…,"lastname":…}` and `{"greeting":…}`, else in text.
 *
 * @param request The request.
 * @returns True for a JSON answer.
 */
export function wantsJson(request: Request): boolean {
  return request.headers.get("accept")?.includes("application/json") ?? false;
}

/** The refusal sent for an invalid form. */
export const INVALID_FORM = "Please give a name and a last name (at most 100 characters each)";

/**
 * Serves `fetch` on `127.0.0.1` at `$PORT` (0 when unset) and prints `ready <port>` once
 * bound.
 *
 * @param fetch The request handler, e.g. `app.fetch`.
 * @returns The server.
 */
export function serve(fetch: (request: Request) => Response | Promise<Response>): Deno.HttpServer {
  const port = Number(Deno.env.get("PORT") ?? "0");
  return Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: ({ port }) => console.log(`ready ${port}`),
  }, fetch);
}
