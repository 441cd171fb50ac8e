/**
 * Entry of the suite on workerd: `GET /suite?runtime=…`, `GET /seal?runtime=…` and
 * `POST /open` (the sealed cookies as JSON) answer with the result as JSON. `GET /readme`
 * serves an app built at module scope, as the README's Workers example does.
 *
 * @module
 */

import { Hono } from "hono";
import { session, type SessionEnv } from "@sealed/sessions";
import { openCookies, runSuite, sealCookies, type SealedCookies, SECRET } from "./suite.ts";

// Built at module scope, where workerd forbids randomness and I/O: set-up must not need them.
const readme = new Hono<SessionEnv<{ visits: number }>>();
readme.use(session({ secrets: [SECRET] }));
readme.get("/readme", (c) => {
  const visits = (c.get("session").get("visits") ?? 0) + 1;
  c.get("session").set("visits", visits);
  return c.text(`visit ${visits}`);
});

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const runtime = url.searchParams.get("runtime") ?? "workerd";
    try {
      switch (url.pathname) {
        case "/suite":
          return Response.json(await runSuite(runtime));
        case "/seal":
          return Response.json(await sealCookies(runtime));
        case "/open":
          return Response.json(
            await openCookies(await request.json() as Record<string, SealedCookies>),
          );
        default:
          return await readme.fetch(request);
      }
    } catch (error) {
      return new Response(error instanceof Error ? error.stack ?? error.message : String(error), {
        status: 500,
      });
    }
  },
};
