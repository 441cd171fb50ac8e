/**
 * Entry point of the greeting service. Run directly, it reads the configuration from the
 * environment and serves the app; imported, it only exports the building blocks, so tests
 * make apps with chosen secrets without touching the environment.
 *
 * ```sh
 * SESSION_SECRET="$(openssl rand -base64 32)" deno task start
 * deno task dev    # no secret needed: passes --dev, which generates a throw-away one
 * ```
 *
 * @module
 */

import type { Hono } from "hono";
import { type AppEnv, type AppOptions, createApp } from "./routes/app.tsx";
import { serverSideOptions } from "./routes/server_side.ts";
import { drainable, stopOnSignals } from "./routes/shutdown.ts";
import { SessionConfigError } from "./lib/mod.ts";
import {
  type AppConfig,
  ConfigError,
  configError,
  type Env,
  ENV_VARIABLES,
  ephemeralSecretWarning,
  isDevMode,
  loadConfig,
} from "./routes/config.ts";
import { errorSummary } from "./lib/common/errors.ts";
import { listeningLine, logRequests } from "./routes/logging.ts";
import { listenError } from "./routes/startup_errors.ts";

export { createApp, isDevMode, loadConfig };
export type { AppConfig, AppOptions, Env };

/**
 * Reads the variables {@linkcode loadConfig} needs, one by one, so that `--allow-env` may be
 * narrowed to exactly these names.
 *
 * @returns The variables; absent ones are `undefined`.
 */
export function readEnv(): Env {
  const env: Partial<Record<(typeof ENV_VARIABLES)[number], string>> = {};
  for (const name of ENV_VARIABLES) env[name] = Deno.env.get(name);
  return env;
}

/**
 * Builds the app of a configuration: the session library validates what `loadConfig` parsed,
 * and a value it refuses is reported naming its environment variable.
 *
 * @param config The configuration.
 * @param session The server-side session options (`serverSideOptions(config).session`).
 * @returns The app.
 * @throws {ConfigError} When the library refuses a value (a secret under 32 bytes, say).
 *
 * @example A secret too short, named by its variable
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildApp, loadConfig } from "./main.ts";
 *
 * assert.throws(() => buildApp(loadConfig({ SESSION_SECRET: "short" })), /SESSION_SECRET must be at least 32 bytes/);
 * ```
 */
export function buildApp(config: AppConfig, session: AppOptions["session"] = {}): Hono<AppEnv> {
  try {
    return createApp({ ...config, session });
  } catch (error) {
    throw error instanceof SessionConfigError ? configError(error) : error;
  }
}

/**
 * Starts the service: loads the configuration, warns about a throw-away secret, and
 * serves. Prints `Listening on http://HOST:PORT/` once bound (tests read the port from it
 * when started with `PORT=0`), then one line per request when `config.logRequests` is on.
 * On SIGTERM or SIGINT it drains and exits 0 (`routes/shutdown.ts`); in dev mode it ends at
 * once.
 *
 * @param args Command-line arguments; `--dev` selects dev mode.
 * @param env The environment variables.
 * @returns The running server (closing any Deno KV or Redis it opened when it finishes).
 * @throws {ConfigError} When the configuration is missing or wrong (as parsed here, or as the
 * session library validates it), or names something the process cannot use (a `SESSION_KV` it may not write, a `PORT` in use, a foreign `HOSTNAME`).
 */
export async function serve(args: readonly string[], env: Env): Promise<Deno.HttpServer> {
  const config = loadConfig(env, { dev: isDevMode(args, env) });
  if (config.ephemeralSecret) console.error(ephemeralSecretWarning());
  const { session, kv, redis } = await serverSideOptions(config);
  let app: Hono<AppEnv>;
  try {
    app = buildApp(config, session);
  } catch (error) {
    kv?.close();
    await redis?.close();
    throw error;
  }
  const service = drainable(app.fetch);
  // Logged outside the drain, so the 503s of a draining instance show in the log too.
  const handler = config.logRequests ? logRequests(service.fetch) : service.fetch;
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      port: config.port,
      hostname: config.hostname,
      onListen({ port }) {
        console.log(listeningLine(config.hostname, port));
      },
    }, handler);
  } catch (error) {
    kv?.close();
    await redis?.close();
    throw listenError(config.hostname, config.port, error);
  }
  if (kv) server.finished.then(() => kv.close());
  if (redis) server.finished.then(() => redis.close());
  // Dev mode leaves signals to their default, which ends the process at once: under
  // `deno run --watch` (`deno task dev`), a program that stops by itself leaves the watcher
  // waiting for a file change, and the watcher ends only on a signal the program does not take.
  if (!config.dev) {
    stopOnSignals({ server, service, timeoutMs: config.shutdownTimeout * 1000, kv, redis });
  }
  return server;
}

if (import.meta.main) {
  try {
    await serve(Deno.args, readEnv());
  } catch (error) {
    // A ConfigError already says what is wrong and how to fix it. Anything else is logged by
    // name and message, never as an object whose causes may carry what it was working on.
    console.error(
      error instanceof ConfigError ? error.message : `Cannot start: ${errorSummary(error)}`,
    );
    Deno.exit(1);
  }
}
