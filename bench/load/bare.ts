/**
 * Load-test server 1, the ceiling: a bare Hono app with the service's two routes and no
 * middleware. The "session" is a plain, unsigned and unencrypted JSON cookie named `name`.
 *
 * Run: `PORT=8000 deno run -A bench/load/bare.ts`
 *
 * @module
 */

import { Hono } from "hono";
import { createBareApp } from "./_bare_app.ts";
import { serve } from "./_shared.ts";

serve(createBareApp(new Hono()).fetch);
