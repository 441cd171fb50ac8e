/**
 * Graceful shutdown of the service: once a stop is asked for, requests already being handled
 * finish (within a bound), every new request, `/healthz` included, is answered `503` so that a
 * balancer takes the instance out and retries elsewhere, and only then is the server closed.
 *
 * The server is closed last on purpose: `Deno.serve`'s `shutdown()` stops reading the bodies
 * of requests still being received, so calling it first would turn a slow upload into a 500.
 *
 * @module
 */

import { securityHeaderList } from "./headers.ts";

/** A `fetch`-style request handler, as `Deno.serve` takes. */
export type FetchHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** How a drain ended. */
export interface DrainResult {
  /** True when every request in flight finished before the deadline. */
  complete: boolean;
  /** Requests still in flight when the deadline passed (0 when complete). */
  abandoned: number;
  /** Milliseconds the drain took. */
  elapsedMs: number;
}

/** A handler that can be drained. */
export interface Drainable {
  /** The wrapped handler, to give to `Deno.serve`. */
  readonly fetch: FetchHandler;
  /** True once {@linkcode Drainable.drain} was called. */
  readonly draining: boolean;
  /**
   * Answers every later request with `503` and waits for those in flight to finish.
   *
   * @param timeoutMs Longest wait, in milliseconds.
   * @returns How the drain ended.
   */
  drain(timeoutMs: number): Promise<DrainResult>;
}

const DRAINING_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ["Content-Type", "text/plain; charset=utf-8"],
  ["Cache-Control", "no-store"],
  // The instance is going away: the client should retry, on a connection to another one.
  ["Retry-After", "1"],
  ["Connection", "close"],
];

async function drainingResponse(request: Request): Promise<Response> {
  // A request body nobody will read must not hold the connection open.
  request.body?.cancel().catch(() => {});
  const headers = [...await securityHeaderList(), ...DRAINING_HEADERS] as [string, string][];
  return new Response("Shutting down: retry on another instance.\n", { status: 503, headers });
}

/**
 * Wraps a handler so that it can be drained: counts the requests in flight and, once
 * draining, answers new ones `503` instead of handling them.
 *
 * @param handler The app's handler, e.g. `app.fetch`.
 * @returns The wrapped handler and its `drain()`.
 *
 * @example Draining answers new requests 503 and waits for those in flight
 * ```ts
 * import assert from "node:assert/strict";
 * import { drainable } from "./shutdown.ts";
 *
 * let finish = () => {};
 * const slow = new Promise<void>((resolve) => (finish = resolve));
 * const service = drainable(async () => {
 *   await slow;
 *   return new Response("done");
 * });
 * // The handler here does not look at the connection info.
 * const info = {} as Deno.ServeHandlerInfo<Deno.NetAddr>;
 * const inFlight = service.fetch(new Request("http://localhost/"), info);
 * const drained = service.drain(1000);
 * const late = await service.fetch(new Request("http://localhost/healthz"), info);
 * assert.equal(late.status, 503);
 * finish();
 * assert.equal(await (await inFlight).text(), "done");
 * assert.equal((await drained).complete, true);
 * ```
 */
export function drainable(handler: FetchHandler): Drainable {
  let inFlight = 0;
  let draining = false;
  let onIdle = () => {};
  const done = () => {
    if (--inFlight === 0) onIdle();
  };
  return {
    // Not an async function: a handler's synchronous Response stays synchronous, which
    // Deno.serve answers on a faster path, and a promise gets one `finally`, no extra await.
    fetch(request, info) {
      if (draining) return drainingResponse(request);
      inFlight++;
      let response: Response | Promise<Response>;
      try {
        response = handler(request, info);
      } catch (error) {
        done();
        throw error;
      }
      if (response instanceof Promise) return response.finally(done);
      done();
      return response;
    },
    get draining() {
      return draining;
    },
    async drain(timeoutMs) {
      draining = true;
      const start = performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const complete = inFlight === 0 || await new Promise<boolean>((resolve) => {
        onIdle = () => resolve(true);
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      clearTimeout(timer);
      return {
        complete,
        abandoned: complete ? 0 : inFlight,
        elapsedMs: Math.round(performance.now() - start),
      };
    },
  };
}

/** Options of {@linkcode stopOnSignals}. */
export interface StopOptions {
  /** The running server. */
  server: Deno.HttpServer;
  /** Its drainable handler. */
  service: Drainable;
  /** Longest drain, in milliseconds. */
  timeoutMs: number;
  /** Closed after the drain (Deno KV), if any. */
  kv?: Deno.Kv | undefined;
  /**
   * Closed after the drain (the Redis connection), if any, waiting for it as long as for the
   * server to close, at most.
   */
  redis?: { close(): Promise<void> } | undefined;
  /**
   * Ends the process.
   * @default {Deno.exit}
   */
  exit?: (code: number) => void;
}

/**
 * Signals this soon after the first count as the same stop request, delivered twice (to the
 * process group and forwarded by a parent); a signal after it forces the exit.
 */
export const REPEAT_WINDOW_MS = 1000;

// Longest wait for the server, then Redis, to close once drained: a client holding a connection
// open or a Redis that does not answer must not keep a stopping process alive.
const CLOSE_BOUND_MS = 1000;

// Waits for `promise`, at most `ms`; true when it settled in time.
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise.then(() => true, () => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * On SIGTERM or SIGINT: drains the service (bounded), closes the server, Deno KV and Redis
 * (bounded), logs one line and exits 0. Signals within {@linkcode REPEAT_WINDOW_MS} of the first
 * are the same request arriving twice; a later one during the drain exits at once with code 1.
 *
 * @param options The server, its handler, the bound, and what to close.
 * @returns A function that removes the signal listeners.
 */
export function stopOnSignals(options: StopOptions): () => void {
  const { server, service, timeoutMs, kv, redis } = options;
  const exit = options.exit ?? ((code: number) => Deno.exit(code));
  let firstSignalAt = 0;
  const stop = async (signal: Deno.Signal) => {
    if (service.draining) {
      // A supervisor that signals the whole process group (systemd's default KillMode,
      // `kill -- -PGID`, a terminal's Ctrl-C) reaches this process and `deno task`, which
      // forwards it: one stop request arriving twice. Only a later signal forces the exit.
      if (performance.now() - firstSignalAt < REPEAT_WINDOW_MS) return;
      console.error(`Stopping at once: ${signal} received again while draining`);
      return exit(1);
    }
    firstSignalAt = performance.now();
    const result = await service.drain(timeoutMs);
    // Nothing is in flight any more (or the bound passed): closing cannot cut a request short
    // that was allowed to finish. Bounded too, in case a client holds a connection open.
    await within(server.shutdown(), CLOSE_BOUND_MS);
    try {
      kv?.close();
    } catch {
      // Already closed when the server finished.
    }
    // Explicitly, before exiting: exit would drop the socket with Redis mid-conversation.
    if (redis) await within(redis.close(), CLOSE_BOUND_MS);
    console.log(
      result.complete
        ? `Stopped on ${signal}: drained in ${result.elapsedMs} ms`
        : `Stopped on ${signal}: drain timed out after ${result.elapsedMs} ms, ${result.abandoned} request(s) cut off`,
    );
    exit(0);
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGTERM", "SIGINT"];
  const listeners: (readonly [Deno.Signal, () => void])[] = [];
  for (const signal of signals) {
    const listener = () => void stop(signal);
    try {
      Deno.addSignalListener(signal, listener);
    } catch {
      // A platform without signals (Deno Deploy isolates) stops the process its own way.
      continue;
    }
    listeners.push([signal, listener]);
  }
  return () => {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  };
}
