/**
 * Reads the greeting service's configuration from environment variables. Pure: it takes the
 * variables as a plain record and returns a value or throws, so tests need no real
 * environment and `main.ts` decides how to report and exit. Values are parsed here; what the
 * session library validates (secrets, lifetimes, cookie attributes) is validated there, and
 * its {@linkcode SessionConfigError} is turned into a {@linkcode ConfigError} naming the
 * variable by {@linkcode configError}.
 *
 * @module
 */

import type { SessionConfigError } from "../lib/mod.ts";
/** Longest graceful shutdown when `SHUTDOWN_TIMEOUT` is not set, in seconds. */
export const DEFAULT_SHUTDOWN_TIMEOUT = 10;
/** Port used when `PORT` is not set. */
export const DEFAULT_PORT = 8000;
/**
 * Interface used when `HOSTNAME` is not set, outside dev mode. All interfaces, because Deno Deploy and
 * containers reach the process from outside; tests pass `127.0.0.1`.
 */
export const DEFAULT_HOSTNAME = "0.0.0.0";
/**
 * Interface used in dev mode when `HOSTNAME` is not set: loopback only, so a laptop's dev
 * server is not reachable from the local network.
 */
export const DEV_HOSTNAME = "localhost";

/** How to make a secret, repeated in every message about one. */
export const SECRET_HOW_TO = [
  "Make one with either of:",
  "  openssl rand -base64 32",
  '  deno eval "console.log(crypto.randomUUID()+crypto.randomUUID())"',
  "and set it, e.g. SESSION_SECRET=<that value> deno task start",
].join("\n");

/** The environment variables this service reads. */
export const ENV_VARIABLES = [
  "SESSION_SECRET",
  "SESSION_SECRET_FALLBACKS",
  "SESSION_SECRET_NEXT",
  "SESSION_MAX_AGE",
  "SESSION_COOKIE_SECURE",
  "SESSION_IDLE_TIMEOUT",
  "PORT",
  "HOSTNAME",
  "SHUTDOWN_TIMEOUT",
  "BODY_TIMEOUT",
  "DENO_DEPLOYMENT_ID",
  "SEALED_DEV",
  "SESSION_KV",
  "SESSION_STORE",
  "SESSION_REDIS_URL",
  "FLASK_SECRET_KEY",
  "FLASK_SECRET_KEY_FALLBACKS",
  "FLASK_SESSION_COOKIE_NAME",
  "FLASK_SESSION_MODE",
  "FLASK_SESSION_COOKIE_DOMAIN",
  "FLASK_SESSION_COOKIE_PATH",
  "FLASK_SESSION_COOKIE_SECURE",
  "FLASK_SESSION_COOKIE_SAMESITE",
  "LOG_REQUESTS",
] as const;

/** Environment variables as read by {@linkcode loadConfig}; absent and empty are the same. */
export type Env = Readonly<Partial<Record<(typeof ENV_VARIABLES)[number], string>>>;

/** The service configuration. */
export interface AppConfig {
  /**
   * Dev mode (`--dev` or `SEALED_DEV=1`), never on Deno Deploy: a signal then ends the process
   * at once, without draining.
   */
  readonly dev: boolean;
  /** Session secrets, newest first: the first seals, all of them open. */
  readonly secrets: readonly string[];
  /**
   * `SESSION_SECRET_NEXT`: a coming secret, accepted for opening but never used to seal
   * (phase 1 of a rotation on a fleet). Empty when unset.
   */
  readonly nextSecrets: readonly string[];
  /** Absolute session lifetime, in seconds; undefined for the library's default (14 days). */
  readonly maxAge: number | undefined;
  /**
   * The session cookie's `Secure`: `auto` from the request URL's scheme, `true` always (behind
   * a proxy that terminates TLS), `false` never.
   */
  readonly cookieSecure: "auto" | boolean;
  /**
   * Idle timeout in seconds: a session unused this long ends. Undefined: none. Sessions issued
   * before it was set gain an idle deadline on their next use.
   */
  readonly idleTimeout: number | undefined;
  /**
   * `SHUTDOWN_TIMEOUT`: on SIGTERM or SIGINT, the longest wait for requests in flight, in
   * seconds, before the process exits anyway.
   */
  readonly shutdownTimeout: number;
  /**
   * `BODY_TIMEOUT`: the longest a request body may take to arrive, in seconds, before the
   * request is answered 408. Undefined: 10 s.
   */
  readonly bodyTimeout: number | undefined;
  /** Port to listen on; 0 lets the system choose. */
  readonly port: number;
  /** Interface to listen on. */
  readonly hostname: string;
  /**
   * Log one line per request (method, path, status, time) on stdout. `LOG_REQUESTS`; on by
   * default in dev mode only.
   */
  readonly logRequests: boolean;
  /**
   * Whether the secret was generated for this process only (dev mode without
   * `SESSION_SECRET`): sessions then die with the process.
   */
  readonly ephemeralSecret: boolean;
  /**
   * Deno KV for revocation (and the store): a path, a URL, or `default` for `Deno.openKv()`
   * with no argument (Deno Deploy). Undefined: no server-side state.
   */
  readonly kv?: string | undefined;
  /**
   * Keep session data in {@linkcode AppConfig.kv} (or {@linkcode AppConfig.redis}) instead of
   * the cookie.
   */
  readonly store?: boolean;
  /**
   * Redis for revocation (and the store), from `SESSION_REDIS_URL`: a `redis://` or `rediss://`
   * URL. Undefined: not used. Never set together with {@linkcode AppConfig.kv}.
   */
  readonly redis?: string | undefined;
  /** The Flask bridge, when `FLASK_SECRET_KEY` is set. */
  readonly flask?: FlaskConfig | undefined;
}

/** The Flask bridge settings of the service. */
export interface FlaskConfig {
  /** `migrate` or `shared`. */
  readonly mode: "migrate" | "shared";
  /** Flask's `SECRET_KEY`, then its fallbacks. */
  readonly secretKeys: readonly string[];
  /** Flask's `SESSION_COOKIE_NAME`. */
  readonly cookieName: string;
  /** Flask's `SESSION_COOKIE_DOMAIN`; undefined: host-only. */
  readonly domain: string | undefined;
  /** Flask's `SESSION_COOKIE_PATH`. */
  readonly path: string;
  /** Flask's `SESSION_COOKIE_SECURE`. */
  readonly secure: boolean;
  /**
   * Flask's `SESSION_COOKIE_SAMESITE`, title-cased as Werkzeug does (`lax` is `Lax`); checked
   * by the bridge.
   */
  readonly sameSite: string;
}

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /**
   * Dev mode: a missing `SESSION_SECRET` is replaced by a random one instead of being an
   * error. Ignored on Deno Deploy (`DENO_DEPLOYMENT_ID` set), where a secret is always
   * required.
   *
   * @default {false}
   */
  dev?: boolean;
}

/**
 * A configuration value is missing or wrong. The message names the variable and says how
 * to fix it; `main.ts` prints it and exits with code 1.
 */
export class ConfigError extends Error {
  /** The environment variable at fault. */
  readonly variable: string;

  /**
   * @param variable The environment variable at fault.
   * @param message What is wrong and how to fix it.
   */
  constructor(variable: string, message: string) {
    super(message);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

/**
 * Builds the configuration from environment variables.
 *
 * @param env The variables, e.g. `{ SESSION_SECRET: Deno.env.get("SESSION_SECRET") }`.
 * @param options `dev` (default `false`) allows running without `SESSION_SECRET`.
 * @returns The validated configuration.
 * @throws {ConfigError} When `SESSION_SECRET` is missing outside dev mode (or on Deno
 * Deploy), `SESSION_SECRET_NEXT` repeats another secret, `SESSION_MAX_AGE`, `PORT` is not a number,
 * or `SESSION_KV`, `SESSION_REDIS_URL` and `SESSION_STORE` are malformed or combined wrongly, or
 * any other variable holds a value it cannot take (the error names it).
 *
 * @example Loading a configuration in a test
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./config.ts";
 *
 * const config = loadConfig({ SESSION_SECRET: "x".repeat(32), SESSION_MAX_AGE: "3600" });
 * assert.equal(config.maxAge, 3600);
 * assert.equal(config.secrets.length, 1);
 * ```
 */
export function loadConfig(env: Env, options: LoadConfigOptions = {}): AppConfig {
  const onDeploy = nonEmpty(env.DENO_DEPLOYMENT_ID) !== undefined;
  const dev = options.dev === true && !onDeploy;

  const secret = nonEmpty(env.SESSION_SECRET);
  const fallbacks = parseFallbacks(env.SESSION_SECRET_FALLBACKS);
  let secrets: string[];
  let ephemeralSecret = false;
  if (secret !== undefined) {
    secrets = [secret, ...fallbacks];
  } else if (dev) {
    // Fallbacks alone cannot seal anything new, and a random secret of our own makes every
    // old cookie unreadable anyway: keep them so that dev still reads cookies they sealed.
    secrets = [randomSecret(), ...fallbacks];
    ephemeralSecret = true;
  } else {
    throw new ConfigError(
      "SESSION_SECRET",
      [
        `Cannot start: SESSION_SECRET is not set${onDeploy ? " (required on Deno Deploy)" : ""}.`,
        "It must be a random value of at least 32 bytes, the same on every instance.",
        SECRET_HOW_TO,
        "For local development without a secret, run `deno task dev`.",
      ].join("\n"),
    );
  }

  return {
    dev,
    secrets,
    nextSecrets: parseNextSecret(env.SESSION_SECRET_NEXT, secrets),
    maxAge: parsePositiveInteger("SESSION_MAX_AGE", env.SESSION_MAX_AGE, undefined),
    cookieSecure: parseCookieSecure(env.SESSION_COOKIE_SECURE),
    idleTimeout: parsePositiveInteger("SESSION_IDLE_TIMEOUT", env.SESSION_IDLE_TIMEOUT, undefined),
    shutdownTimeout: parsePositiveInteger(
      "SHUTDOWN_TIMEOUT",
      env.SHUTDOWN_TIMEOUT,
      DEFAULT_SHUTDOWN_TIMEOUT,
    ),
    bodyTimeout: parsePositiveInteger("BODY_TIMEOUT", env.BODY_TIMEOUT, undefined),
    port: parsePort(env.PORT),
    hostname: nonEmpty(env.HOSTNAME) ?? (dev ? DEV_HOSTNAME : DEFAULT_HOSTNAME),
    logRequests: parseSwitch("LOG_REQUESTS", env.LOG_REQUESTS, dev),
    ephemeralSecret,
    ...serverSide(env),
    flask: flaskConfig(env),
  };
}

/**
 * Tells whether the process runs in dev mode: started with the `--dev` argument (what
 * `deno task dev` passes) or with `SEALED_DEV=1`.
 *
 * @param args The command-line arguments, e.g. `Deno.args`.
 * @param env The environment variables.
 * @returns `true` in dev mode.
 *
 * @example The flag and the environment variable
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDevMode } from "./config.ts";
 *
 * assert.ok(isDevMode(["--dev"], {}));
 * assert.ok(isDevMode([], { SEALED_DEV: "1" }));
 * ```
 */
export function isDevMode(args: readonly string[], env: Env): boolean {
  return args.includes("--dev") || nonEmpty(env.SEALED_DEV) === "1";
}

/**
 * The loud, multi-line warning printed when dev mode generated a secret.
 *
 * @returns The warning text, without a trailing newline.
 */
export function ephemeralSecretWarning(): string {
  const line = "!".repeat(72);
  return [
    line,
    "!! WARNING: SESSION_SECRET is not set; using a random throw-away secret.",
    "!! Every session ends when this process restarts, and other instances",
    "!! cannot read these cookies. Fine for development, never for production.",
    ...SECRET_HOW_TO.split("\n").map((text) => `!! ${text}`),
    line,
  ].join("\n");
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function parseFallbacks(value: string | undefined): string[] {
  const list = nonEmpty(value);
  if (list === undefined) return [];
  // Base64 and hex secrets never contain commas, so a comma-separated list is unambiguous.
  return list.split(",").map((item) => item.trim()).filter((item) => item !== "");
}

function parseNextSecret(value: string | undefined, secrets: readonly string[]): string[] {
  const next = nonEmpty(value);
  if (next === undefined) return [];
  const at = secrets.indexOf(next);
  if (at >= 0) {
    const where = at === 0 ? "SESSION_SECRET" : "SESSION_SECRET_FALLBACKS";
    throw new ConfigError(
      "SESSION_SECRET_NEXT",
      `Cannot start: SESSION_SECRET_NEXT is the same secret as ${where}. ` +
        "SESSION_SECRET_NEXT holds the coming secret only while some instances do not have it yet " +
        "(phase 1 of a rotation); once it seals (SESSION_SECRET), unset SESSION_SECRET_NEXT.",
    );
  }
  return [next];
}

function parsePositiveInteger<T extends number | undefined>(
  variable: string,
  value: string | undefined,
  fallback: T,
): number | T {
  const text = nonEmpty(value);
  if (text === undefined) return fallback;
  const number = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!(number > 0)) {
    throw new ConfigError(
      variable,
      `Cannot start: ${variable} must be a whole number of seconds greater than 0, received "${text}"`,
    );
  }
  return number;
}

function parseCookieSecure(value: string | undefined): "auto" | boolean {
  const text = nonEmpty(value);
  if (text === undefined || text === "auto") return "auto";
  if (text === "true" || text === "false") return text === "true";
  throw new ConfigError(
    "SESSION_COOKIE_SECURE",
    `Cannot start: SESSION_COOKIE_SECURE must be "auto", "true" or "false", received ${
      JSON.stringify(text)
    }. Set "true" behind a proxy that terminates TLS.`,
  );
}

function parsePort(value: string | undefined): number {
  const text = nonEmpty(value);
  if (text === undefined) return DEFAULT_PORT;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65_535)) {
    throw new ConfigError(
      "PORT",
      `Cannot start: PORT must be a port number from 0 to 65535, received "${text}"`,
    );
  }
  return port;
}

function parseSwitch(variable: string, value: string | undefined, fallback: boolean): boolean {
  const text = nonEmpty(value)?.toLowerCase();
  if (text === undefined) return fallback;
  if (text === "1" || text === "true") return true;
  if (text === "0" || text === "false") return false;
  throw new ConfigError(
    variable,
    `Cannot start: ${variable} must be 1 (or true) or 0 (or false), received ${
      JSON.stringify(value?.trim())
    }`,
  );
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  // 64 hex characters: 32 random bytes, and well over the 32-byte minimum as text.
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function serverSide(env: Env): { kv: string | undefined; store: boolean; redis?: string } {
  const kv = nonEmpty(env.SESSION_KV);
  const redis = redisUrl(env.SESSION_REDIS_URL);
  const store = nonEmpty(env.SESSION_STORE);
  if (kv !== undefined && redis !== undefined) {
    throw new ConfigError(
      "SESSION_REDIS_URL",
      "Cannot start: SESSION_KV and SESSION_REDIS_URL are both set; keep one (Redis for a fleet of machines, Deno KV on Deno Deploy or a single machine).",
    );
  }
  if (store !== undefined && store !== "kv" && store !== "redis") {
    throw new ConfigError(
      "SESSION_STORE",
      `Cannot start: SESSION_STORE must be "kv", "redis" or unset, received ${
        JSON.stringify(store)
      }.`,
    );
  }
  if (store === "redis" && redis === undefined) {
    throw new ConfigError(
      "SESSION_STORE",
      "Cannot start: SESSION_STORE=redis needs SESSION_REDIS_URL (e.g. redis://127.0.0.1:6379, or rediss://:PASSWORD@HOST:6380 with TLS).",
    );
  }
  if (store === "kv" && redis !== undefined) {
    throw new ConfigError(
      "SESSION_STORE",
      "Cannot start: SESSION_STORE=kv with SESSION_REDIS_URL; set SESSION_STORE=redis to keep sessions in Redis.",
    );
  }
  if (redis !== undefined) return { kv, store: store === "redis", redis };
  if (store === "kv" && kv === undefined) {
    throw new ConfigError(
      "SESSION_STORE",
      "Cannot start: SESSION_STORE=kv needs SESSION_KV (a file path such as .data/sessions.sqlite, or `default` on Deno Deploy).",
    );
  }
  return { kv, store: store === "kv" };
}

// A redis:// or rediss:// URL with a host, an optional port and an optional database number.
// The message never repeats the value: it may hold a password.
function redisUrl(value: string | undefined): string | undefined {
  const text = nonEmpty(value);
  if (text === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  const problem = url === undefined
    ? "it is not a URL"
    : url.protocol !== "redis:" && url.protocol !== "rediss:"
    ? `its scheme is "${url.protocol.slice(0, -1)}", not redis or rediss`
    : url.hostname === ""
    ? "it has no host"
    : !/^(\/\d{0,5})?$/.test(url.pathname) || url.search !== "" || url.hash !== ""
    ? "only a database number may follow the host (redis://HOST:PORT/0)"
    : undefined;
  if (problem !== undefined) {
    throw new ConfigError(
      "SESSION_REDIS_URL",
      `Cannot start: SESSION_REDIS_URL is malformed (${problem}); expected redis://[:PASSWORD@]HOST[:PORT][/DB], or rediss:// for TLS.`,
    );
  }
  return text;
}

function flaskConfig(env: Env): FlaskConfig | undefined {
  const key = nonEmpty(env.FLASK_SECRET_KEY);
  const mode = nonEmpty(env.FLASK_SESSION_MODE) ?? "migrate";
  if (key === undefined) {
    if (nonEmpty(env.FLASK_SESSION_MODE) !== undefined) {
      throw new ConfigError(
        "FLASK_SECRET_KEY",
        "Cannot start: FLASK_SESSION_MODE is set but FLASK_SECRET_KEY is not; set it to the Flask app's SECRET_KEY.",
      );
    }
    return undefined;
  }
  if (mode !== "migrate" && mode !== "shared") {
    throw new ConfigError(
      "FLASK_SESSION_MODE",
      `Cannot start: FLASK_SESSION_MODE must be "migrate" or "shared", received ${
        JSON.stringify(mode)
      }.`,
    );
  }
  const fallbacks = (nonEmpty(env.FLASK_SECRET_KEY_FALLBACKS) ?? "").split(",")
    .map((item) => item.trim()).filter((item) => item !== "");
  return {
    mode,
    secretKeys: [key, ...fallbacks],
    cookieName: nonEmpty(env.FLASK_SESSION_COOKIE_NAME) ?? "session",
    ...flaskCookieAttributes(env),
  };
}

// Flask's cookie attributes, so that the Flask cookie is written and deleted exactly where
// Flask put it: a deletion with another domain or path leaves it in place. Parsed here, checked
// by the bridge (whose errors configError() names by these variables).
function flaskCookieAttributes(
  env: Env,
): Pick<FlaskConfig, "domain" | "path" | "secure" | "sameSite"> {
  const secureText = nonEmpty(env.FLASK_SESSION_COOKIE_SECURE) ?? "false";
  if (secureText !== "true" && secureText !== "false") {
    throw new ConfigError(
      "FLASK_SESSION_COOKIE_SECURE",
      `Cannot start: FLASK_SESSION_COOKIE_SECURE must be "true" or "false", received ${
        JSON.stringify(secureText)
      }.`,
    );
  }
  // Werkzeug title-cases the value, so Flask accepts any case.
  const sameSite = nonEmpty(env.FLASK_SESSION_COOKIE_SAMESITE) ?? "Lax";
  return {
    domain: nonEmpty(env.FLASK_SESSION_COOKIE_DOMAIN),
    path: nonEmpty(env.FLASK_SESSION_COOKIE_PATH) ?? "/",
    secure: secureText === "true",
    sameSite: sameSite.charAt(0).toUpperCase() + sameSite.slice(1).toLowerCase(),
  };
}

/** The variable each session or Flask bridge option comes from. */
const OPTION_VARIABLES: Readonly<Record<string, string>> = {
  "secrets[0]": "SESSION_SECRET",
  "nextSecrets[0]": "SESSION_SECRET_NEXT",
  maxAge: "SESSION_MAX_AGE",
  idleTimeout: "SESSION_IDLE_TIMEOUT",
  "cookie.secure": "SESSION_COOKIE_SECURE",
  "flask.secretKeys[0]": "FLASK_SECRET_KEY",
  "flask.domain": "FLASK_SESSION_COOKIE_DOMAIN",
  "flask.path": "FLASK_SESSION_COOKIE_PATH",
  "flask.secure": "FLASK_SESSION_COOKIE_SECURE",
  "flask.sameSite": "FLASK_SESSION_COOKIE_SAMESITE",
  revocation: "FLASK_SESSION_MODE",
  store: "FLASK_SESSION_MODE",
};

/**
 * Names the environment variable behind a session option the library refused, in the
 * service's own words: what {@linkcode loadConfig} parsed, the library validated.
 *
 * @param error The library's error.
 * @returns The error to report, naming the variable.
 *
 * @example A fallback secret that is too short
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionConfigError } from "../lib/mod.ts";
 * import { configError } from "./config.ts";
 *
 * const error = configError(new SessionConfigError("secrets[2]", "must be at least 32 bytes, received 5"));
 * assert.equal(error.variable, "SESSION_SECRET_FALLBACKS (entry 2)");
 * assert.match(error.message, /^Cannot start: SESSION_SECRET_FALLBACKS \(entry 2\) must be at least 32 bytes/);
 * ```
 */
export function configError(error: SessionConfigError): ConfigError {
  const { option, problem } = error;
  const fallback = /^(flask\.secretKeys|secrets)\[(\d+)\]$/.exec(option);
  const variable = OPTION_VARIABLES[option] ??
    (fallback
      ? `${fallback[1] === "secrets" ? "SESSION_SECRET" : "FLASK_SECRET_KEY"}_FALLBACKS (entry ${
        fallback[2]
      })`
      : `the session option ${option}`);
  const secret = option.startsWith("secrets") || option.startsWith("nextSecrets");
  return new ConfigError(
    variable,
    `Cannot start: ${variable} ${problem}${secret ? `\n${SECRET_HOW_TO}` : ""}`,
  );
}
