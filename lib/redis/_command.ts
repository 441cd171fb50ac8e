/**
 * The one thing the Redis layers need from a client: send a command, get its reply. Typed
 * structurally so that `lib/redis/` imports no client package; both `redis` (node-redis) and
 * `ioredis` clients fit as they are.
 *
 * @module
 */

import { deadline } from "../server_side/deadline.ts";
import { SessionConfigError, SessionStoreUnavailableError } from "../common/errors.ts";

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
  const within = deadline(timeoutMs);
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
  // Scripts go by their SHA-1 (EVALSHA), their text only when Redis does not have them yet:
  // most scripts are far longer than their arguments.
  const shas = new Map<string, Promise<string>>();
  const sendScript = async (args: string[]) => {
    const script = args[1]!;
    let sha = shas.get(script);
    if (!sha) shas.set(script, sha = sha1Hex(script));
    try {
      return await send(["EVALSHA", await sha, ...args.slice(2)]);
    } catch (error) {
      if (!String((error as Error | undefined)?.message).startsWith("NOSCRIPT")) throw error;
      return await send(args);
    }
  };
  return async function command(args, action) {
    try {
      const sending = args[0] === "EVAL"
        ? sendScript(args)
        : Promise.resolve().then(() => send(args));
      return await within(sending);
    } catch (error) {
      throw unavailable(action, error);
    }
  };
}

/** The SHA-1 of a script's text, in hex, as Redis names its scripts. */
async function sha1Hex(text: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text)),
  );
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function unavailable(action: string, cause: unknown): SessionStoreUnavailableError {
  return new SessionStoreUnavailableError(action, "Redis", cause);
}
