/**
 * The one thing the Redis layers need from a client: send a command, get its reply. Typed
 * structurally so that `lib/redis/` imports no client package; both `redis` (node-redis) and
 * `ioredis` clients fit as they are.
 *
 * @module
 */

import { SessionConfigError, SessionError } from "../session/errors.ts";

/**
 * A connected Redis client: node-redis (`createClient()`, which has `sendCommand`) or ioredis
 * (`new Redis()`, which has `call`), or anything with either method.
 */
export type RedisClientLike =
  | { sendCommand(args: string[]): Promise<unknown> }
  | { call(command: string, ...args: string[]): Promise<unknown> };

type SendCommand = (args: string[]) => Promise<unknown>;

/**
 * Wraps a client into a command function whose calls never wait longer than
 * `timeoutMs`: a client that queues commands while disconnected would otherwise hold
 * requests until Redis returns.
 *
 * @param client The client.
 * @param timeoutMs Longest wait for a reply, in milliseconds.
 * @returns The command function, given the arguments and what it does for the error message
 *   ("check session revocation"); its errors are `SessionError`s with code
 *   `ERR_SESSION_STORE_UNAVAILABLE`.
 */
export function commandSender(
  client: RedisClientLike,
  timeoutMs: number,
): (args: string[], action: string) => Promise<unknown> {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new SessionConfigError(
      "timeoutMs",
      `must be a number of milliseconds > 0, received ${timeoutMs}`,
    );
  }
  let send: SendCommand;
  // `call` first: ioredis also has a `sendCommand`, taking one of its own Command objects.
  if (client && typeof (client as { call?: unknown }).call === "function") {
    const c = client as { call(command: string, ...args: string[]): Promise<unknown> };
    send = (args) => c.call(args[0]!, ...args.slice(1));
  } else if (client && typeof (client as { sendCommand?: unknown }).sendCommand === "function") {
    const c = client as { sendCommand(args: string[]): Promise<unknown> };
    send = (args) => c.sendCommand(args);
  } else {
    throw new SessionConfigError(
      "client",
      "must be a connected Redis client with sendCommand() (redis) or call() (ioredis)",
    );
  }
  return function command(args, action) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(unavailable(action, new Error(`no reply within ${timeoutMs} ms`)));
      }, timeoutMs);
      let reply: Promise<unknown>;
      try {
        reply = Promise.resolve(send(args));
      } catch (error) {
        reply = Promise.reject(error);
      }
      reply.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error) => {
          clearTimeout(timer);
          reject(unavailable(action, error));
        },
      );
    });
  };
}

function unavailable(action: string, cause: unknown): SessionError {
  return new SessionError(
    "ERR_SESSION_STORE_UNAVAILABLE",
    `Cannot ${action}: Redis did not answer`,
    { cause },
  );
}
