/**
 * A TypeScript consumer of the npm package, type-checked by `tsc` with `moduleResolution`
 * `bundler` and `nodenext` and without Deno's or Node's types (`scripts/test_runtimes.ts`).
 * It uses every entry point but `./kv`, which needs Deno's types.
 *
 * @module
 */

import { Hono } from "hono";
import {
  InvalidSessionError,
  type Session,
  session,
  SessionConfigError,
  type SessionEnv,
  SessionError,
  type SessionErrorCode,
  type SessionOptions,
  SessionTooLargeError,
} from "@sealed/sessions";
import { createSealer, type OpenedRecord, type Sealer } from "@sealed/sessions/seal";
import { type Xaes256Gcm, xaes256gcm } from "@sealed/sessions/xaes";
import { type FlaskCookieOptions, unsealFlaskCookie } from "@sealed/sessions/flask";
import { type RedisClientLike, redisRevocation } from "@sealed/sessions/redis";

type Data = { name: string; visits: number };

const options: SessionOptions = {
  secrets: ["a secret of at least thirty-two bytes!"],
  cookie: { sameSite: "Strict" },
};
const app = new Hono<SessionEnv<Data>>();
app.use(session<Data>(options));
app.get("/", (c) => {
  const s: Session<Data> = c.get("session");
  const visits: number = (s.get("visits") ?? 0) + 1;
  s.set("visits", visits);
  return c.text(`${s.get("name") ?? "stranger"}: ${visits}`);
});

export function describe(error: unknown): SessionErrorCode | "other" {
  if (error instanceof SessionTooLargeError || error instanceof SessionConfigError) {
    return error.code;
  }
  if (error instanceof InvalidSessionError) return error.code;
  return error instanceof SessionError ? error.code : "other";
}

export async function openOne(value: string): Promise<OpenedRecord> {
  const sealer: Sealer = await createSealer({ secrets: options.secrets });
  return await sealer.open(value, "session");
}

export const primitive: Xaes256Gcm = xaes256gcm;

export async function flaskName(cookie: string): Promise<string | undefined> {
  const flask: FlaskCookieOptions = { secretKeys: ["tutorial-secret-key"] };
  const data = await unsealFlaskCookie(cookie, flask);
  return typeof data?.name === "string" ? data.name : undefined;
}

export function withRedis(client: RedisClientLike): SessionOptions {
  return { ...options, revocation: redisRevocation(client) };
}

export default app;
