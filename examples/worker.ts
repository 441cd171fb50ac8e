// Cloudflare Workers (workerd): bundle with esbuild or Wrangler; SESSION_SECRET is a secret
// binding (`wrangler secret put SESSION_SECRET`). Bindings arrive with the first request, so
// the app is built then, once per isolate.
import { createApp } from "./app.ts";

interface Env {
  SESSION_SECRET: string;
}

let app: ReturnType<typeof createApp> | undefined;

export default {
  fetch(request: Request, env: Env): Response | Promise<Response> {
    app ??= createApp(env.SESSION_SECRET);
    return app.fetch(request, env);
  },
};
