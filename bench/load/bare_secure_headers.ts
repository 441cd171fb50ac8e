/**
 * Load-test server 2: the bare app of `bare.ts` behind Hono's `secureHeaders()` middleware,
 * with its defaults.
 *
 * Run: `PORT=8000 deno run -A bench/load/bare_secure_headers.ts`
 *
 * @module
 */

import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { createBareApp } from "./_bare_app.ts";
import { serve } from "./_shared.ts";

const app = new Hono();
app.use(secureHeaders());
serve(createBareApp(app).fetch);
