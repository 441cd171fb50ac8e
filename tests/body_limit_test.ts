/**
 * The request body limit is counted while the body is read, whatever `Content-Length` says:
 * a body longer than it announced is refused with 413 once it passes the limit, without being
 * read to its end. Deno's own server refuses such requests, so they are built in process here,
 * as another runtime or a proxy in front might hand them over.
 */

import assert from "node:assert/strict";
import { createApp } from "../routes/app.tsx";
import { MAX_BODY_BYTES, MAX_DISCARD_BYTES, readFields } from "../routes/body.ts";

const SECRET = "body limit test secret, at least 32 bytes";
const CHUNK = 16 * 1024;

/** A form body of `total` bytes, served on demand; `pulled` counts what was read. */
function lyingBody(total: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let sent = 0;
  const chunk = new TextEncoder().encode("name=" + "a".repeat(CHUNK - 5));
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      sent += chunk.byteLength;
      controller.enqueue(chunk.slice());
    },
  }, { highWaterMark: 0 });
  return { stream, pulled: () => sent };
}

function post(body: ReadableStream<Uint8Array>, contentLength: string): Request {
  return new Request("http://localhost/greeting", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "content-length": contentLength,
      accept: "text/plain",
    },
    body,
  });
}

Deno.test("POST /greeting answers 413 to a body longer than its small Content-Length, unread past the limit", async () => {
  const app = createApp({ secrets: [SECRET] });
  const total = 8 * 1024 * 1024;
  const { stream, pulled } = lyingBody(total);
  // Announces 20 bytes, sends 8 MiB.
  const res = await app.request(post(stream, "20"));
  assert.equal(res.status, 413);
  assert.match(await res.text(), /larger than the limit of 16384 bytes/);
  // Read to just past the limit, then at most the bounded discard, never the whole body.
  assert.ok(
    pulled() <= MAX_BODY_BYTES + MAX_DISCARD_BYTES + 2 * CHUNK,
    `read ${pulled()} bytes of ${total}`,
  );
});

Deno.test("readFields() counts a body announced within the limit while reading it", async (t) => {
  await t.step("a body longer than announced is refused", async () => {
    const { stream, pulled } = lyingBody(4 * 1024 * 1024);
    const result = await readFields(post(stream, String(MAX_BODY_BYTES)));
    assert.equal(!result.ok && result.status, 413);
    assert.ok(pulled() <= MAX_BODY_BYTES + MAX_DISCARD_BYTES + 2 * CHUNK, `read ${pulled()}`);
  });
  await t.step("a body exactly as announced, within the limit, is read", async () => {
    const text = "name=Ada&lastname=Lovelace";
    const bytes = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 5));
        controller.enqueue(bytes.slice(5));
        controller.close();
      },
    });
    const result = await readFields(post(stream, String(bytes.byteLength)));
    assert.deepEqual(result.ok && { ...result.fields }, { name: "Ada", lastname: "Lovelace" });
  });
});
