/**
 * What the service writes to its log: the line saying where it listens, (in dev mode, or with
 * `LOG_REQUESTS=1`) one line per request, and errors, by name and message only.
 *
 * @module
 */

/** A `Deno.serve` handler. */
export type Handler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/**
 * The start-up line, with a URL one can open: `localhost` for a loopback interface, and for
 * all interfaces the address as bound plus the local URL.
 *
 * @param hostname The interface asked for (`HOSTNAME`), e.g. `localhost` or `0.0.0.0`.
 * @param port The port actually bound.
 * @returns E.g. `Listening on http://localhost:8000/`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listeningLine } from "./logging.ts";
 *
 * assert.equal(listeningLine("localhost", 8000), "Listening on http://localhost:8000/");
 * assert.equal(
 *   listeningLine("0.0.0.0", 8000),
 *   "Listening on http://0.0.0.0:8000/ (all interfaces; on this machine: http://localhost:8000/)",
 * );
 * ```
 */
export function listeningLine(hostname: string, port: number): string {
  if (hostname === "0.0.0.0" || hostname === "::") {
    const bound = hostname === "::" ? "[::]" : hostname;
    return `Listening on http://${bound}:${port}/ (all interfaces; on this machine: http://localhost:${port}/)`;
  }
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return `Listening on http://${host}:${port}/`;
}

/**
 * Wraps a handler so that each request logs one line once its response is ready:
 * `GET /session-data 200 1.3ms`. Only the path is logged, never the query string, which may
 * carry personal data.
 *
 * @param handler The handler to wrap, e.g. `app.fetch`.
 * @param log Where lines go (default `console.log`, i.e. stdout).
 * @returns The wrapped handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logRequests } from "./logging.ts";
 *
 * const lines: string[] = [];
 * const handler = logRequests(() => new Response("ok", { status: 201 }), (l) => lines.push(l));
 * const info = {} as Deno.ServeHandlerInfo<Deno.NetAddr>;
 * await handler(new Request("http://localhost/a/b?name=Ada", { method: "POST" }), info);
 * assert.match(lines[0]!, /^POST \/a\/b 201 \d+\.\dms$/);
 * ```
 */
export function logRequests(
  handler: Handler,
  log: (line: string) => void = console.log,
): Handler {
  return async function loggedRequest(request, info) {
    const start = performance.now();
    const path = new URL(request.url).pathname;
    let status = 500;
    try {
      const response = await handler(request, info);
      status = response.status;
      return response;
    } finally {
      log(`${request.method} ${path} ${status} ${(performance.now() - start).toFixed(1)}ms`);
    }
  };
}
