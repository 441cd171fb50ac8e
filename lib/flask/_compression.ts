/**
 * The zlib container (RFC 1950) itsdangerous uses for compressed payloads, with a hard bound on
 * the inflated size so a small, correctly signed cookie cannot inflate to megabytes.
 *
 * Two backends: synchronous `node:zlib` where it exists (it reads exactly what Python's
 * `zlib.decompress` reads), else Compression Streams, so the library still loads on runtimes
 * without `node:` modules.
 *
 * @module
 */

import { lazyBuiltin } from "./_node_builtin.ts";

/**
 * The largest payload read or written: 256 KiB of JSON, far beyond the ~4 KB a browser keeps in
 * one cookie, far below what a zip bomb could otherwise allocate.
 */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

type NodeZlib = typeof import("node:zlib");

// Found on first use, synchronously, so that the library still loads on runtimes without
// `node:` modules and importing it loads nothing.
const nodeZlib = lazyBuiltin<NodeZlib>("node:zlib", (m) => typeof m.inflateSync === "function");

/**
 * Compresses as Python's `zlib.compress(data)` (level 6, 32 KiB window). The bytes may differ
 * from Python's where the zlib implementations differ; any zlib reader accepts both.
 *
 * @param data The bytes.
 * @returns The zlib stream.
 *
 * @example Compressing a payload
 * ```ts
 * import assert from "node:assert/strict";
 * import { deflate } from "./_compression.ts";
 *
 * const stream = await deflate(new TextEncoder().encode("a".repeat(100)));
 * assert.equal(stream[0], 0x78);
 * assert.ok(stream.length < 100);
 * ```
 */
export function deflate(data: Uint8Array): Promise<Uint8Array> {
  const zlib = nodeZlib();
  if (zlib) return Promise.resolve(plain(zlib.deflateSync(data, { level: 6 })));
  return deflateWithStreams(data);
}

/**
 * Inflates a zlib stream, stopping as soon as the output passes `maxBytes`.
 *
 * @param data The zlib stream.
 * @param maxBytes The most bytes to produce.
 * @returns The bytes, or `undefined` when the stream is broken (bad header or checksum,
 * truncated) or inflates past `maxBytes`. Bytes after the end of the stream are ignored, as
 * Python's `zlib.decompress` ignores them (Compression Streams refuse them).
 *
 * @example Refusing a zip bomb
 * ```ts
 * import assert from "node:assert/strict";
 * import { deflate, inflateBounded } from "./_compression.ts";
 *
 * const bomb = await deflate(new Uint8Array(4 * 1024 * 1024));
 * assert.equal(await inflateBounded(bomb, 1024), undefined);
 * ```
 */
export function inflateBounded(
  data: Uint8Array,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  const zlib = nodeZlib();
  if (!zlib) return inflateWithStreams(data, maxBytes);
  try {
    // maxOutputLength makes zlib stop (RangeError) once the output grows past the bound,
    // instead of inflating everything first.
    return Promise.resolve(plain(zlib.inflateSync(data, { maxOutputLength: maxBytes })));
  } catch {
    return Promise.resolve(undefined);
  }
}

/** A Node `Buffer` as a plain `Uint8Array` view, so callers never see Buffer's methods. */
function plain(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
}

async function readAll(
  stream: ReadableStream<Uint8Array>,
  maxBytes = Infinity,
): Promise<Uint8Array | undefined> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Feeds `data` in small pieces, only as fast as the consumer reads. */
function pieces(data: Uint8Array, size: number): ReadableStream<Uint8Array<ArrayBuffer>> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= data.length) return controller.close();
      controller.enqueue(data.slice(offset, offset + size));
      offset += size;
    },
  }, { highWaterMark: 0 });
}

/**
 * {@linkcode deflate} over `CompressionStream` (default level).
 *
 * @param data The bytes.
 * @returns The zlib stream.
 *
 * @example Compressing without node:zlib
 * ```ts
 * import assert from "node:assert/strict";
 * import { deflateWithStreams } from "./_compression.ts";
 *
 * const stream = await deflateWithStreams(new TextEncoder().encode("a".repeat(100)));
 * assert.equal(stream[0], 0x78);
 * ```
 */
export async function deflateWithStreams(data: Uint8Array): Promise<Uint8Array> {
  return (await readAll(pieces(data, 64 * 1024).pipeThrough(new CompressionStream("deflate"))))!;
}

/**
 * {@linkcode inflateBounded} over `DecompressionStream`. The input goes in 256-byte pieces, so at
 * most ~256 KiB of output (deflate's 1032:1 limit) arrives beyond the bound before it stops.
 * The header and Adler-32 checksum are checked here because a truncated stream can end without
 * an error.
 *
 * @param data The zlib stream.
 * @param maxBytes The most bytes to produce.
 * @returns The bytes, or `undefined`. Unlike Python, bytes after the stream are refused.
 *
 * @example Inflating without node:zlib
 * ```ts
 * import assert from "node:assert/strict";
 * import { deflateWithStreams, inflateWithStreams } from "./_compression.ts";
 *
 * const text = new TextEncoder().encode('{"a":1}');
 * const stream = await deflateWithStreams(text);
 * assert.equal((await inflateWithStreams(stream, 100))?.length, 7);
 * assert.equal(await inflateWithStreams(stream.subarray(0, -1), 100), undefined);
 * ```
 */
export async function inflateWithStreams(
  data: Uint8Array,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  // RFC 1950 §2.2: deflate method, window ≤ 32 KiB, header checksum, no preset dictionary.
  if (data.length < 6) return undefined;
  const cmf = data[0]!;
  const flg = data[1]!;
  if ((cmf & 0x0f) !== 8 || cmf >> 4 > 7 || ((cmf << 8) | flg) % 31 !== 0 || flg & 0x20) {
    return undefined;
  }
  let out: Uint8Array | undefined;
  try {
    out = await readAll(
      pieces(data, 256).pipeThrough(new DecompressionStream("deflate")),
      maxBytes,
    );
  } catch {
    return undefined;
  }
  if (out === undefined) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  return view.getUint32(data.length - 4) === adler32(out) ? out : undefined;
}

function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  // 5552 bytes is the most that can be summed before the 32-bit sums need reducing (zlib NMAX).
  for (let i = 0; i < data.length; i += 5552) {
    const end = Math.min(i + 5552, data.length);
    for (let j = i; j < end; j++) {
      a += data[j]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}
