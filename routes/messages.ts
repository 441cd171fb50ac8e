/**
 * Answers that explain rather than serve: error pages and refusals, in the format the client
 * asked for (an HTML page, plain text or JSON), never cached.
 *
 * @module
 */

import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { PRIVATE_HEADERS } from "./headers.ts";
import { preferredFormat } from "./negotiate.ts";
import { MessagePage } from "./pages.tsx";

/**
 * Answers an error or a refusal in the format the client asked for: a page with a title and
 * paragraphs, the messages as lines of plain text, or `{ "error": "…" }`.
 *
 * @param c The request's context.
 * @param status The status.
 * @param title The page's heading, e.g. `Page not found`.
 * @param messages Sentences explaining what happened.
 * @returns The response.
 */
export function sendMessage(
  c: Context,
  status: ContentfulStatusCode,
  title: string,
  messages: readonly string[],
): Response | Promise<Response> {
  const format = preferredFormat(c.req.header("accept"));
  if (format === "json") return c.json({ error: messages.join(" ") }, status, PRIVATE_HEADERS);
  if (format === "text") return c.text(messages.join("\n"), status, PRIVATE_HEADERS);
  return c.html(String(MessagePage({ title, messages })), status, PRIVATE_HEADERS);
}
