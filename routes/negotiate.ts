/**
 * Content negotiation: which of HTML, plain text and JSON a client asked for in `Accept`.
 * Pure functions over the header value, no Hono types.
 *
 * @module
 */

/** A response format the service can answer in. */
export type Format = "html" | "text" | "json";

const MEDIA_TYPES: Readonly<Record<Format, readonly [type: string, subtype: string]>> = {
  html: ["text", "html"],
  json: ["application", "json"],
  text: ["text", "plain"],
};
// Server preference on ties: a browser saying `*/*` gets a page.
const FORMATS: readonly Format[] = ["html", "json", "text"];

interface Range {
  readonly type: string;
  readonly subtype: string;
  readonly q: number;
}

/**
 * Picks the response format from an `Accept` header. Without the header, or when nothing
 * offered is acceptable, the answer is HTML: browsers are the main audience, and an error
 * page beats a bare 406.
 *
 * @param accept The `Accept` header value, if any.
 * @returns The format with the highest quality; HTML, then JSON, then text on ties.
 *
 * @example Choosing a format from Accept
 * ```ts
 * import assert from "node:assert/strict";
 * import { preferredFormat } from "./negotiate.ts";
 *
 * assert.equal(preferredFormat("application/json"), "json");
 * assert.equal(preferredFormat("text/plain, *\/*;q=0.1"), "text");
 * assert.equal(preferredFormat(undefined), "html");
 * ```
 */
export function preferredFormat(accept: string | undefined): Format {
  // Fast path for what most API clients send: nothing or any type.
  if (accept === undefined || accept === "" || accept === "*/*") return "html";
  // Clients send a handful of distinct values, each on every request: parse each once.
  let format = formatCache.get(accept);
  if (format === undefined) {
    format = negotiate(accept);
    // Bounded, so a client sending endless distinct values costs memory only up to here.
    if (formatCache.size >= FORMAT_CACHE_SIZE) formatCache.clear();
    formatCache.set(accept, format);
  }
  return format;
}

const FORMAT_CACHE_SIZE = 256;
const formatCache = new Map<string, Format>();

function negotiate(accept: string): Format {
  const ranges = parseAccept(accept);
  let best: Format = "html";
  let bestQ = 0;
  for (const format of FORMATS) {
    const q = quality(ranges, format);
    if (q > bestQ) {
      best = format;
      bestQ = q;
    }
  }
  return best;
}

/**
 * Tells whether `Accept` names `text/html` itself (not through a wildcard) with a non-zero
 * quality: what browsers send for navigations, and API clients do not.
 *
 * @param accept The `Accept` header value, if any.
 * @returns `true` when the client is most likely a browser navigating.
 *
 * @example A browser asks for HTML, curl does not
 * ```ts
 * import assert from "node:assert/strict";
 * import { acceptsHtmlExplicitly } from "./negotiate.ts";
 *
 * assert.ok(acceptsHtmlExplicitly("text/html,application/xhtml+xml,*\/*;q=0.8"));
 * assert.equal(acceptsHtmlExplicitly("*\/*"), false);
 * ```
 */
export function acceptsHtmlExplicitly(accept: string | undefined): boolean {
  if (accept === undefined || !accept.toLowerCase().includes("text/html")) return false;
  return parseAccept(accept).some((range) =>
    range.type === "text" && range.subtype === "html" && range.q > 0
  );
}

function parseAccept(accept: string): Range[] {
  const ranges: Range[] = [];
  for (const part of accept.toLowerCase().split(",")) {
    const [mediaType = "", ...params] = part.split(";");
    const slash = mediaType.indexOf("/");
    if (slash < 0) continue;
    const type = mediaType.slice(0, slash).trim();
    const subtype = mediaType.slice(slash + 1).trim();
    if (type === "" || subtype === "") continue;
    let q = 1;
    for (const param of params) {
      const [key = "", value = ""] = param.split("=");
      if (key.trim() === "q") {
        const parsed = Number(value.trim());
        q = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
      }
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

// The quality of a format is that of the most specific range matching it (RFC 9110 §12.5.1).
function quality(ranges: readonly Range[], format: Format): number {
  const [type, subtype] = MEDIA_TYPES[format];
  let specificity = -1;
  let q = 0;
  for (const range of ranges) {
    let rank: number;
    if (range.type === type && range.subtype === subtype) rank = 2;
    else if (range.type === type && range.subtype === "*") rank = 1;
    else if (range.type === "*" && range.subtype === "*") rank = 0;
    else continue;
    if (rank > specificity) {
      specificity = rank;
      q = range.q;
    }
  }
  return q;
}
