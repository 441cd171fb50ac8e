/**
 * Turns what goes wrong while the service starts (opening `SESSION_KV`, binding `PORT` on
 * `HOSTNAME`) into a {@linkcode ConfigError} naming the variable and what to do, so
 * `main.ts` prints one line and exits with code 1 instead of crashing with a stack trace.
 *
 * @module
 */

import { ConfigError } from "./config.ts";

/**
 * Explains why `SESSION_KV` could not be opened.
 *
 * @param path The value of `SESSION_KV`.
 * @param error What `Deno.openKv` (or making its folder) threw.
 * @returns The error to report.
 *
 * @example A path outside the folder the process may write to
 * ```ts
 * import assert from "node:assert/strict";
 * import { kvOpenError } from "./startup_errors.ts";
 *
 * const error = kvOpenError("/srv/sessions.sqlite", new Deno.errors.NotCapable("no write"));
 * assert.equal(error.variable, "SESSION_KV");
 * assert.match(error.message, /under \.data\//);
 * ```
 */
export function kvOpenError(path: string, error: unknown): ConfigError {
  const value = JSON.stringify(path);
  if (isDenied(error)) {
    return new ConfigError(
      "SESSION_KV",
      `Cannot start: SESSION_KV=${value} is not writable by this process (deno task start may only write under .data/): use a path under .data/, e.g. SESSION_KV=.data/sessions.sqlite, or run main.ts with --allow-write for that folder`,
    );
  }
  return new ConfigError(
    "SESSION_KV",
    `Cannot start: SESSION_KV=${value} could not be opened (${
      oneLine(error)
    }): check the path, or use a file under .data/, e.g. SESSION_KV=.data/sessions.sqlite`,
  );
}

/**
 * Explains why the server could not listen on `HOSTNAME`:`PORT`.
 *
 * @param hostname The interface asked for.
 * @param port The port asked for.
 * @param error What `Deno.serve` threw.
 * @returns The error to report.
 *
 * @example A port another process holds
 * ```ts
 * import assert from "node:assert/strict";
 * import { listenError } from "./startup_errors.ts";
 *
 * const error = listenError("127.0.0.1", 8000, new Deno.errors.AddrInUse("in use"));
 * assert.equal(error.variable, "PORT");
 * assert.match(error.message, /PORT=0/);
 * ```
 */
export function listenError(hostname: string, port: number, error: unknown): ConfigError {
  const where = `${hostname}:${port}`;
  if (error instanceof Deno.errors.AddrInUse) {
    return new ConfigError(
      "PORT",
      `Cannot start: port ${port} on ${hostname} is already in use: stop the other server, or set PORT to a free port (PORT=0 picks one)`,
    );
  }
  if (isDenied(error)) {
    return new ConfigError(
      "PORT",
      `Cannot start: this process may not listen on ${where} (${
        oneLine(error)
      }): set PORT to a port of 1024 or above, or grant --allow-net for it`,
    );
  }
  return new ConfigError(
    "HOSTNAME",
    `Cannot start: cannot listen on HOSTNAME=${JSON.stringify(hostname)} (${
      oneLine(error)
    }): set HOSTNAME to an address of this machine, e.g. 127.0.0.1 or 0.0.0.0`,
  );
}

function isDenied(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable ||
    error instanceof Deno.errors.PermissionDenied;
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]!.trim();
}
