/**
 * The one cookie jar the tests share: what a browser keeps from `Set-Cookie` headers, for one
 * site and `Path=/`. A `Set-Cookie` replaces the cookie of the same name; one with `Max-Age`
 * of zero or less, or (without `Max-Age`, which takes precedence, RFC 6265 §5.3) an `Expires`
 * in the past, deletes it. An empty value is a value, as in browsers.
 *
 * @module
 */

/** One `Set-Cookie` header, parsed. */
export interface SetCookie {
  name: string;
  value: string;
  /** `Max-Age` in seconds, when present. */
  maxAge: number | undefined;
  /** Attribute names (lower case) to their values; `true` for flags. */
  attributes: Map<string, string | true>;
  /** The header as received. */
  raw: string;
}

/**
 * Parses one `Set-Cookie` header.
 *
 * @param raw The header value.
 * @returns Its name, value and attributes.
 */
export function parseSetCookie(raw: string): SetCookie {
  const [pair = "", ...rest] = raw.split(";");
  const eq = pair.indexOf("=");
  const attributes = new Map<string, string | true>();
  for (const part of rest) {
    const [key = "", ...value] = part.trim().split("=");
    attributes.set(key.toLowerCase(), value.length ? value.join("=") : true);
  }
  const maxAge = attributes.get("max-age");
  return {
    name: pair.slice(0, eq).trim(),
    value: pair.slice(eq + 1).trim(),
    maxAge: typeof maxAge === "string" ? Number(maxAge) : undefined,
    attributes,
    raw,
  };
}

/**
 * The `Set-Cookie` headers of a response, parsed.
 *
 * @param res The response.
 * @returns One entry per header, in order.
 */
export function setCookies(res: Response): SetCookie[] {
  return res.headers.getSetCookie().map(parseSetCookie);
}

/**
 * Whether a `Set-Cookie` deletes its cookie rather than setting it.
 *
 * @param cookie The parsed header.
 * @param now The clock, for `Expires`.
 * @returns True for `Max-Age` ≤ 0, or no `Max-Age` and an `Expires` in the past.
 */
export function isDeletion(cookie: SetCookie, now: number = Date.now()): boolean {
  if (cookie.maxAge !== undefined) return !(cookie.maxAge > 0);
  const expires = cookie.attributes.get("expires");
  return typeof expires === "string" && Date.parse(expires) <= now;
}

/** A browser's cookie jar, enough for one host and `Path=/`. */
export class CookieJar {
  /** The cookies held, name to value, in the order they were first set. */
  readonly cookies: Map<string, string> = new Map();

  /**
   * Takes in `Set-Cookie` headers: each replaces or deletes the cookie of its name.
   *
   * @param source A response, or the raw header values.
   */
  store(source: Response | Iterable<string>): void {
    const headers = source instanceof Response ? source.headers.getSetCookie() : source;
    for (const raw of headers) {
      const cookie = parseSetCookie(raw);
      if (isDeletion(cookie)) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
  }

  /** The `Cookie` request header, empty when the jar is. */
  get header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  /** Names of the cookies held, sorted. */
  get names(): string[] {
    return [...this.cookies.keys()].sort();
  }

  /** A jar holding the same cookies, for a second browser that copied them. */
  copy(): CookieJar {
    const jar = new CookieJar();
    for (const [name, value] of this.cookies) jar.cookies.set(name, value);
    return jar;
  }

  /**
   * `fetch` with the jar's cookies, storing the response's; redirects are not followed.
   *
   * @param url The URL.
   * @param init Request options; a `cookie` header is added.
   * @returns The response.
   */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set("cookie", this.header);
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    this.store(res);
    return res;
  }
}

/**
 * The `Cookie` header a browser with an empty jar sends back after this response.
 *
 * @param res The response.
 * @returns The header, empty when the response set nothing (or only deleted).
 */
export function cookieOf(res: Response): string {
  const jar = new CookieJar();
  jar.store(res);
  return jar.header;
}
