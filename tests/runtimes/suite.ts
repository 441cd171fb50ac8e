/**
 * The round-trip suite every runtime runs against the installed npm package (see
 * `scripts/test_runtimes.ts`): sealing, opening, rotation, tampering, chunking, flash, destroy
 * and regenerate through a Hono app's `app.request()`, plus the `./seal`, `./xaes` and
 * `./flask` entries. It imports only the package and Hono, and asserts with its own `check`,
 * so that it runs unchanged where `node:` modules do not exist (workerd without
 * `nodejs_compat`).
 *
 * @module
 */

import { Hono } from "hono";
import {
  session,
  SessionConfigError,
  type SessionData,
  type SessionEnv,
  SessionTooLargeError,
} from "@sealed/sessions";
import { createSealer, InvalidSessionError } from "@sealed/sessions/seal";
import { xaes256gcm, xaes256gcmWebCrypto } from "@sealed/sessions/xaes";
import { sealFlaskCookie, unsealFlaskCookie } from "@sealed/sessions/flask";
import { CookieJar } from "../_cookie_jar.ts";

/** The secret every runtime seals the matrix cookies under. */
export const SECRET = "runtime matrix secret, the current one (32+ bytes)";
/** The secret the rotation check starts from. */
export const OLD_SECRET = "runtime matrix secret, the retired one (32+ bytes)";
/** A value too large for one cookie and for the default budget, the same on every runtime. */
export const BIG = Array.from({ length: 9000 }, (_, i) => "abcdefghij"[(i * 7) % 10]).join("");

/** One named check and how it went. */
export interface CheckResult {
  name: string;
  ok: boolean;
  error?: string;
}

/** What a runtime reports after the suite. */
export interface SuiteReport {
  runtime: string;
  nodeCrypto: boolean;
  results: CheckResult[];
}

/** The cookies one runtime sealed for the others to open. */
export interface SealedCookies {
  /** `Cookie` header of a small session holding `{ sealedOn, n: 42 }`. */
  plain: string;
  /** `Cookie` header of a chunked session holding `{ sealedOn, big: BIG }`. */
  chunked: string;
}

/** What a runtime read from another's cookies: the data, or null when it did not open. */
export interface OpenedCookies {
  plain: SessionData | null;
  chunked: SessionData | null;
}

class CheckFailed extends Error {}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}

function equal(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what}: expected ${e}, received ${a}`);
}

type Env = SessionEnv<SessionData>;

/** Cookie budget of the app under test: room for {@link BIG}, over the default. */
const BUDGET = 16384;

/**
 * The app under test: set, read, flash, destroy and regenerate, with a cookie budget of
 * `maxCookieBytes` bytes (`null`: the library's default).
 */
export function makeApp(secrets: string[], maxCookieBytes: number | null = BUDGET): Hono<Env> {
  const app = new Hono<Env>();
  app.use(session({ secrets, maxCookieBytes: maxCookieBytes ?? undefined }));
  app.post("/set", async (c) => {
    const values = await c.req.json<Record<string, unknown>>();
    try {
      for (const [key, value] of Object.entries(values)) c.get("session").set(key, value);
    } catch (error) {
      if (!(error instanceof SessionTooLargeError)) throw error;
      return c.json({ code: error.code, size: error.size, limit: error.limit }, 413);
    }
    return c.text("ok");
  });
  app.get("/get", (c) => {
    const s = c.get("session");
    return c.json({ data: s.data, isNew: s.isNew, id: s.isNew ? null : s.id });
  });
  app.post("/flash", (c) => {
    c.get("session").flash("note", "saved");
    return c.text("ok");
  });
  app.get("/flash", (c) => c.json({ note: c.get("session").consumeFlash("note") ?? null }));
  app.post("/destroy", (c) => {
    c.get("session").destroy();
    return c.text("ok");
  });
  app.post("/regenerate", (c) => {
    c.get("session").regenerate();
    return c.text("ok");
  });
  return app;
}

/** A request through `app.request()` with the jar's cookies, storing the response's. */
async function send(
  app: Hono<Env>,
  jar: CookieJar,
  path: string,
  init: { method?: string; json?: unknown; cookie?: string; status?: number } = {},
): Promise<Response> {
  const headers = new Headers();
  const cookie = init.cookie ?? jar.header;
  if (cookie) headers.set("cookie", cookie);
  let body: string | undefined;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  const request = new Request(`http://localhost${path}`, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
  });
  const res = await app.request(request);
  const status = init.status ?? 200;
  check(res.status === status, `${path} answered ${res.status}, expected ${status}`);
  if (init.cookie === undefined) jar.store(res);
  return res;
}

async function read(app: Hono<Env>, jar: CookieJar, cookie?: string) {
  const res = await send(app, jar, "/get", cookie === undefined ? {} : { cookie });
  return await res.json() as { data: SessionData; isNew: boolean; id: string | null };
}

const checks: Record<string, () => Promise<void>> = {
  async "a session is sealed into a cookie and opened from it"() {
    const app = makeApp([SECRET]);
    const jar = new CookieJar();
    await send(app, jar, "/set", { json: { name: "Ada", n: 1, nested: { ok: true } } });
    equal(jar.names, ["sealed"], "cookies");
    equal((await read(app, jar)).data, { name: "Ada", n: 1, nested: { ok: true } }, "data");
  },
  async "a cookie sealed under a retired secret opens after rotation, and is re-sealed"() {
    const before = makeApp([OLD_SECRET]);
    const after = makeApp([SECRET, OLD_SECRET]);
    const onlyNew = makeApp([SECRET]);
    const jar = new CookieJar();
    await send(before, jar, "/set", { json: { name: "Ada" } });
    const old = jar.header;
    equal((await read(onlyNew, new CookieJar(), old)).data, {}, "without the old secret");
    const res = await send(after, jar, "/get");
    check(res.headers.getSetCookie().length > 0, "no re-sealed cookie after rotation");
    check(jar.header !== old, "the cookie was not re-sealed");
    equal((await read(onlyNew, jar)).data, { name: "Ada" }, "re-sealed under the new secret");
  },
  async "a tampered, truncated or garbage cookie reads as an empty session"() {
    const app = makeApp([SECRET]);
    const jar = new CookieJar();
    await send(app, jar, "/set", { json: { name: "Ada" } });
    const value = jar.cookies.get("sealed")!;
    const middle = Math.floor(value.length / 2);
    const flipped = value.slice(0, middle) + (value[middle] === "A" ? "B" : "A") +
      value.slice(middle + 1);
    for (
      const bad of [flipped, value.slice(0, -1), value.slice(0, 10), "garbage", "%%%", ""]
    ) {
      const got = await read(app, new CookieJar(), `sealed=${bad}`);
      equal(got.data, {}, `data from sealed=${bad.slice(0, 12)}…`);
      check(got.isNew, "a refused cookie must give a new session");
    }
  },
  async "a session too large for one cookie is split into chunks and joined again"() {
    const app = makeApp([SECRET]);
    const jar = new CookieJar();
    await send(app, jar, "/set", { json: { big: BIG } });
    check(jar.names.length >= 3, `expected several chunks, received ${jar.names.join(", ")}`);
    check(jar.names.every((name) => name.startsWith("sealed.")), `names ${jar.names}`);
    equal((await read(app, jar)).data.big === BIG, true, "the joined value");
    await send(app, jar, "/set", { json: { big: "small now" } });
    equal(jar.names, ["sealed"], "chunks left after the session shrank");
  },
  async "a session over the default budget is refused and the previous cookie stays"() {
    const app = makeApp([SECRET], null);
    const jar = new CookieJar();
    await send(app, jar, "/set", { json: { name: "Ada" } });
    const before = jar.header;
    const refused = await send(app, jar, "/set", { json: { big: BIG }, status: 413 });
    const body = await refused.json();
    equal(body.code, "ERR_SESSION_TOO_LARGE", "code");
    check(body.size > body.limit && body.limit === 6144, `size ${body.size}, limit ${body.limit}`);
    equal(jar.header, before, "cookie after the refusal");
    equal((await read(app, jar)).data, { name: "Ada" }, "data after the refusal");
  },
  async "a flash value is read once, on the next request"() {
    const app = makeApp([SECRET]);
    const jar = new CookieJar();
    await send(app, jar, "/flash", { method: "POST" });
    equal(await (await send(app, jar, "/flash")).json(), { note: "saved" }, "first read");
    equal(await (await send(app, jar, "/flash")).json(), { note: null }, "second read");
  },
  async "destroy deletes every session cookie"() {
    const app = makeApp([SECRET]);
    const jar = new CookieJar();
    await send(app, jar, "/set", { json: { big: BIG } });
    await send(app, jar, "/destroy", { method: "POST" });
    equal(jar.names, [], "cookies after destroy");
    equal((await read(app, jar)).data, {}, "data after destroy");
  },
  async "regenerate keeps the data under a new session id"() {
    const app = makeApp([SECRET]);
    const jar = new CookieJar();
    await send(app, jar, "/set", { json: { name: "Ada" } });
    const before = await read(app, jar);
    await send(app, jar, "/regenerate", { method: "POST" });
    const after = await read(app, jar);
    equal(after.data, { name: "Ada" }, "data");
    check(before.id && after.id && before.id !== after.id, `ids ${before.id} ${after.id}`);
  },
  // deno-lint-ignore require-await
  async "a secret shorter than 32 bytes is refused at set-up"() {
    try {
      session({ secrets: ["short"] });
    } catch (error) {
      check(error instanceof SessionConfigError, `threw ${error}`);
      return;
    }
    check(false, "session() accepted a short secret");
  },
  async "./seal seals and opens a record without Hono"() {
    const sealer = await createSealer({ secrets: [SECRET] });
    const now = Math.floor(Date.now() / 1000);
    const record = {
      id: new Uint8Array(16).fill(7),
      issuedAt: now,
      expiresAt: now + 60,
      idleExpiresAt: 0,
      data: { name: "Ada" },
    };
    const value = await sealer.seal(record, "session");
    const opened = await sealer.open(value, "session");
    equal(opened.data, { name: "Ada" }, "opened data");
    equal([...opened.id], [...record.id], "opened id");
    let refused: unknown;
    await sealer.open(value, "other").catch((error) => refused = error);
    check(refused instanceof InvalidSessionError, `another cookie name gave ${refused}`);
  },
  async "./xaes matches the C2SP vector, on both backends"() {
    const key = new Uint8Array(32).fill(1);
    const nonce = new TextEncoder().encode("ABCDEFGHIJKLMNOPQRSTUVWX");
    const plaintext = new TextEncoder().encode("XAES-256-GCM");
    for (const [name, primitive] of [["auto", xaes256gcm], ["webcrypto", xaes256gcmWebCrypto]]) {
      const p = primitive as typeof xaes256gcm;
      const sealed = await p.encrypt(key, nonce, plaintext, new Uint8Array());
      const hex = [...sealed].map((b) => b.toString(16).padStart(2, "0")).join("");
      equal(hex, "ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271", `${name} vector`);
      const opened = await p.decrypt(key, nonce, sealed, new Uint8Array());
      equal(new TextDecoder().decode(opened), "XAES-256-GCM", `${name} decrypt`);
    }
  },
  async "./flask reads and writes the Flask tutorial's cookie"() {
    const cookie =
      "eyJsYXN0bmFtZSI6IkxvdmVsYWNlIiwibmFtZSI6IkFkYSJ9.ZVPxAA.fHqttHwxsqfvvZpjyHrpoTv5wgE";
    const options = { secretKeys: ["tutorial-secret-key"], now: new Date(1_700_000_000_000) };
    equal(await unsealFlaskCookie(cookie, options), { lastname: "Lovelace", name: "Ada" }, "read");
    equal(await sealFlaskCookie({ name: "Ada", lastname: "Lovelace" }, options), cookie, "write");
    const big = await sealFlaskCookie({ text: "a".repeat(2000) }, options);
    check(big.startsWith("."), "a compressible payload is compressed");
    equal(await unsealFlaskCookie(big, options), { text: "a".repeat(2000) }, "compressed");
  },
};

/**
 * Runs every check, catching each failure so that one report lists them all.
 *
 * @param runtime The name to report.
 * @returns The report.
 */
export async function runSuite(runtime: string): Promise<SuiteReport> {
  const results: CheckResult[] = [];
  for (const [name, fn] of Object.entries(checks)) {
    try {
      await fn();
      results.push({ name, ok: true });
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      results.push({ name, ok: false, error: message });
    }
  }
  // The node:crypto backend is found where a sealer can be made over it.
  const nodeCrypto = await createSealer({ secrets: [SECRET], backend: "node" })
    .then(() => true, () => false);
  return { runtime, nodeCrypto, results };
}

/**
 * Seals the matrix cookies on this runtime.
 *
 * @param runtime Written into the data, so that openers can tell whose cookie they read.
 * @returns The `Cookie` headers.
 */
export async function sealCookies(runtime: string): Promise<SealedCookies> {
  const app = makeApp([SECRET]);
  const plain = new CookieJar();
  await send(app, plain, "/set", { json: { sealedOn: runtime, n: 42 } });
  const chunked = new CookieJar();
  await send(app, chunked, "/set", { json: { sealedOn: runtime, big: BIG } });
  return { plain: plain.header, chunked: chunked.header };
}

/**
 * Opens other runtimes' cookies on this one.
 *
 * @param cookies By sealing runtime.
 * @returns What each opened to; `null` for a session that came back empty.
 */
export async function openCookies(
  cookies: Record<string, SealedCookies>,
): Promise<Record<string, OpenedCookies>> {
  const app = makeApp([SECRET]);
  const opened: Record<string, OpenedCookies> = {};
  for (const [runtime, sealed] of Object.entries(cookies)) {
    const plain = await read(app, new CookieJar(), sealed.plain);
    const chunked = await read(app, new CookieJar(), sealed.chunked);
    opened[runtime] = {
      plain: plain.isNew ? null : plain.data,
      chunked: chunked.isNew ? null : chunked.data,
    };
  }
  return opened;
}
