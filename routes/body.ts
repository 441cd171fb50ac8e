/**
 * Reads a request body as a flat record of fields, whatever the encoding a client chose:
 * URL-encoded or multipart forms, or a JSON object. The size limit is enforced while
 * streaming, bytes counted as they arrive, so neither a chunked body without `Content-Length`
 * nor one longer than its `Content-Length` can exhaust memory.
 * No Hono types: it takes a `Request`.
 *
 * @module
 */

import { unrefDelay } from "../lib/common/unref_delay.ts";

/** Largest body accepted, in bytes: 16 KiB, far above two 100-character names. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Longest time a whole body may take to arrive, in milliseconds: 10 s, for 16 KiB even on a
 * poor mobile link. A client that trickles its body slower holds a connection and a request
 * for nothing.
 */
export const BODY_TIMEOUT_MS = 10_000;

/**
 * Most bytes of a refused body read and thrown away before answering. An HTTP/1.1 client
 * still sending its body when the answer comes may see the connection reset instead of the
 * answer; reading a modest rest first lets it get the 413. Larger bodies are cut off. The
 * same bound as Go's net/http. The reading stops at the body's deadline too.
 */
export const MAX_DISCARD_BYTES = 256 * 1024;

/**
 * How long after refusing a body whose rest was not read its connection is closed, in
 * milliseconds: time for the answer to go out and be read before the close. Go's net/http waits
 * as long before closing such a connection.
 */
export const CLOSE_DELAY_MS = 500;

/** The body as fields: strings, files (multipart) or any JSON value. */
export type Fields = Readonly<Record<string, unknown>>;

/** Why a body was refused, with the HTTP status that says so. */
export type BodyProblem =
  | { readonly status: 400; readonly message: string }
  | { readonly status: 408; readonly message: string }
  | { readonly status: 413; readonly message: string }
  | { readonly status: 415; readonly message: string };

/**
 * How a body was encoded: field values are strings (and files) in forms, any JSON value in JSON,
 * so a field's rules may depend on it (a checkbox is `"on"` in a form, `true` in JSON).
 */
export type BodyEncoding = "urlencoded" | "multipart" | "json";

/** The outcome of {@linkcode readFields}. */
export type BodyResult =
  | { readonly ok: true; readonly fields: Fields; readonly encoding: BodyEncoding }
  | ({ readonly ok: false } & BodyProblem);

/** Options of {@linkcode readFields}. */
export interface ReadFieldsOptions {
  /**
   * Largest body accepted, in bytes.
   *
   * @default {MAX_BODY_BYTES}
   */
  limit?: number;
  /**
   * Longest time the whole body may take to arrive, in milliseconds. A slower body is refused
   * within a second after it.
   *
   * @default {BODY_TIMEOUT_MS}
   */
  timeoutMs?: number;
  /**
   * The HTTP server in front frames the body by its `Content-Length` and never hands over more
   * (Deno's own server: it also refuses `Content-Length` with chunked encoding). An announced
   * body within the limit is then read in one go, which on Deno's server is much cheaper than
   * streaming it. Otherwise (in-process requests, other runtimes, anything unknown) every byte
   * is counted as it arrives, whatever `Content-Length` says.
   *
   * @default {false}
   */
  lengthEnforced?: boolean;
}

const FORM = "application/x-www-form-urlencoded";
const MULTIPART = "multipart/form-data";
const JSON_TYPE = "application/json";
const ACCEPTED_TYPES = `${FORM}, ${MULTIPART} or ${JSON_TYPE}`;
// Structured syntax suffix (RFC 6839), e.g. application/merge-patch+json.
const JSON_SUFFIX = /^application\/[\w.+-]+\+json$/;

/**
 * Reads and decodes a request body. Only the first value of a repeated form field is kept.
 *
 * @param request The request; its body is consumed (a refused one only up to
 * {@linkcode MAX_DISCARD_BYTES} and the deadline, then given up, which closes its connection).
 * @param options `limit` in bytes (default 16 KiB), `timeoutMs` (default 10 s).
 * @returns The fields, or the problem: 415 for a content type other than the three
 * accepted, 413 for a body over the limit (announced or streamed), 408 for a body still not
 * whole after `timeoutMs`, 400 for a body that cannot be read (broken framing, cut off), does
 * not decode, or is JSON that is not an object.
 *
 * @example Reading a posted form
 * ```ts
 * import assert from "node:assert/strict";
 * import { readFields } from "./body.ts";
 *
 * const request = new Request("http://localhost/greeting", {
 *   method: "POST",
 *   body: new URLSearchParams({ name: "Ada", lastname: "Lovelace" }),
 * });
 * const result = await readFields(request);
 * assert.ok(result.ok);
 * assert.equal(result.fields.name, "Ada");
 * ```
 */
export async function readFields(
  request: Request,
  options: ReadFieldsOptions = {},
): Promise<BodyResult> {
  const limit = options.limit ?? MAX_BODY_BYTES;
  const contentType = request.headers.get("content-type") ?? "";
  const mediaType = contentType.split(";", 1)[0]!.trim().toLowerCase();
  const isForm = mediaType === FORM || mediaType === MULTIPART;
  const isJson = !isForm && (mediaType === JSON_TYPE || JSON_SUFFIX.test(mediaType));
  const deadline = joinDeadline(options.timeoutMs ?? BODY_TIMEOUT_MS);
  let bytes: Awaited<ReturnType<typeof readLimited>>;
  try {
    if (!isForm && !isJson) {
      await discard(request, deadline.late);
      return {
        ok: false,
        status: 415,
        message: mediaType === ""
          ? `The request has no Content-Type; send ${ACCEPTED_TYPES}`
          : `Content type "${mediaType}" is not supported; send ${ACCEPTED_TYPES}`,
      };
    }
    bytes = await readLimited(request, limit, options.lengthEnforced === true, deadline.late);
  } catch {
    // The body stream failed: its framing is broken (Deno before 2.9 frames a request with both
    // Content-Length and chunked encoding by the first header) or the client cut it off.
    return { ok: false, status: 400, message: "The request body could not be read; send it again" };
  } finally {
    waiting.delete(deadline);
  }
  if (bytes === TIMED_OUT) {
    return {
      ok: false,
      status: 408,
      message: "The request body did not arrive in time; send it again, faster",
    };
  }
  if (bytes === undefined) {
    return {
      ok: false,
      status: 413,
      message: `The request body is larger than the limit of ${limit} bytes`,
    };
  }

  if (mediaType === MULTIPART) return await parseMultipart(bytes, contentType);
  const text = decodeUtf8(bytes);
  if (text === undefined) {
    return { ok: false, status: 400, message: "The request body is not valid UTF-8" };
  }
  if (isJson) return parseJson(text);
  return { ok: true, fields: firstValues(new URLSearchParams(text)), encoding: "urlencoded" };
}

/**
 * Reads and throws away a request body that will not be used, up to
 * {@linkcode MAX_DISCARD_BYTES} and for at most `timeoutMs`, then gives up the rest and closes
 * the connection {@linkcode CLOSE_DELAY_MS} later. Never keeps more than one chunk.
 *
 * @param request The request.
 * @param options `timeoutMs`: the longest the body is read, in milliseconds (default
 * {@linkcode BODY_TIMEOUT_MS}).
 */
export async function discardBody(
  request: Request,
  options: { timeoutMs?: number | undefined } = {},
): Promise<void> {
  const deadline = joinDeadline(options.timeoutMs ?? BODY_TIMEOUT_MS);
  try {
    await discard(request, deadline.late);
  } finally {
    waiting.delete(deadline);
  }
}

async function discard(request: Request, late: Promise<typeof TIMED_OUT>): Promise<void> {
  if (request.body === null || request.bodyUsed) return;
  const reader = request.body.getReader();
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > MAX_DISCARD_BYTES) return giveUp(reader);
  await discardFrom(reader, 0, late);
}

async function discardFrom(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  alreadyRead: number,
  late: Promise<typeof TIMED_OUT>,
): Promise<void> {
  let total = alreadyRead;
  while (total <= MAX_DISCARD_BYTES) {
    // A body that fails while thrown away is as good as read: nothing more will come.
    const next = await Promise.race([reader.read(), late]).catch(() => undefined);
    if (next === undefined || next === TIMED_OUT) break;
    if (next.done) return;
    total += next.value.byteLength;
  }
  giveUp(reader);
}

// Gives up the rest of a body once the answer has gone out, which closes the connection. On
// Deno's server the reader, still open when the answer is sent, holds the connection; given up
// any sooner, the server reads the whole rest of the body before closing, however slowly it
// comes.
function giveUp(reader: ReadableStreamDefaultReader<Uint8Array>): void {
  void unrefDelay(CLOSE_DELAY_MS).then(() => reader.cancel()).catch(() => {});
}

/** What {@linkcode readLimited} answers for a body that did not arrive in time. */
const TIMED_OUT: unique symbol = Symbol("timed out");

// Returns undefined when the body is (or would be) larger than `limit`, TIMED_OUT when it is not
// whole within `timeoutMs`.
async function readLimited(
  request: Request,
  limit: number,
  lengthEnforced: boolean,
  late: Promise<typeof TIMED_OUT>,
): Promise<Uint8Array | undefined | typeof TIMED_OUT> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    // Refuse before keeping a byte: the client said how much is coming.
    await discard(request, late);
    return undefined;
  }
  if (declared !== null && lengthEnforced) {
    // Announced and within the limit, on a server that frames the body by Content-Length:
    // read it in one go, checked anyway. Before any look at `request.body`: on Deno's server
    // that getter builds a ReadableStream over the body, and reading through it costs more
    // time and memory than the rest of a small request.
    // The race handles a later rejection of the read, once the deadline has won. That read
    // cannot be given up: after a 408 Deno's server keeps the connection until the rest of
    // the body (within the limit) has arrived.
    const bytes = await Promise.race([request.arrayBuffer(), late]);
    if (bytes === TIMED_OUT) return TIMED_OUT;
    return bytes.byteLength > limit ? undefined : new Uint8Array(bytes);
  }
  if (request.body === null) return new Uint8Array(0);
  return await readCounted(request.body.getReader(), limit, late);
}

/** A body read waiting for its deadline. */
interface Deadline {
  /** When it passes, in milliseconds since the epoch. */
  readonly at: number;
  /** Resolves once it has passed. */
  readonly late: Promise<typeof TIMED_OUT>;
  readonly expire: () => void;
}

/** How often the deadlines are checked, in milliseconds: each passes at most this late. */
const DEADLINE_CHECK_MS = 1000;

// The body reads in flight, checked by one process-wide clock: a timer created and cleared per
// request costs more than the rest of reading a small body. The clock starts with the first read
// and stops once none is left; it never keeps the process alive, and nothing runs at import.
const waiting = new Set<Deadline>();
let ticking = false;

async function tick(): Promise<void> {
  ticking = true;
  while (waiting.size > 0) {
    await unrefDelay(DEADLINE_CHECK_MS);
    const now = Date.now();
    for (const deadline of waiting) {
      if (deadline.at > now) continue;
      waiting.delete(deadline);
      deadline.expire();
    }
  }
  ticking = false;
}

function joinDeadline(timeoutMs: number): Deadline {
  let expire!: () => void;
  const late = new Promise<typeof TIMED_OUT>((resolve) => (expire = () => resolve(TIMED_OUT)));
  const deadline = { at: Date.now() + timeoutMs, late, expire };
  waiting.add(deadline);
  if (!ticking) void tick();
  return deadline;
}

// Counts while streaming, whatever Content-Length claimed: it may be absent (chunked), or a
// runtime or proxy in front may pass on a body longer than it announced. Never trust it.
async function readCounted(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limit: number,
  late: Promise<typeof TIMED_OUT>,
): Promise<Uint8Array | undefined | typeof TIMED_OUT> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const next = await Promise.race([reader.read(), late]);
    if (next === TIMED_OUT) {
      giveUp(reader);
      return TIMED_OUT;
    }
    if (next.done) break;
    total += next.value.byteLength;
    if (total > limit) {
      await discardFrom(reader, total, late);
      return undefined;
    }
    chunks.push(next.value);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function parseJson(text: string): BodyResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, status: 400, message: "The request body is not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, status: 400, message: "The JSON body must be an object" };
  }
  // Copy own properties only, so `name` can never come from a prototype.
  return { ok: true, fields: Object.assign(Object.create(null), value), encoding: "json" };
}

async function parseMultipart(bytes: Uint8Array, contentType: string): Promise<BodyResult> {
  let form: FormData;
  try {
    // The platform's multipart parser, fed from memory now that the size is known.
    form = await new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { "content-type": contentType },
    }).formData();
  } catch {
    return { ok: false, status: 400, message: "The multipart body could not be parsed" };
  }
  return { ok: true, fields: firstValues(form), encoding: "multipart" };
}

function firstValues(entries: Iterable<[string, unknown]>): Fields {
  const fields: Record<string, unknown> = Object.create(null);
  for (const [key, value] of entries) {
    if (!(key in fields)) fields[key] = value;
  }
  return fields;
}
