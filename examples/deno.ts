// Deno: deno run --allow-net --allow-env examples/deno.ts
import { createApp } from "./app.ts";

const app = createApp(Deno.env.get("SESSION_SECRET") ?? "");
Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.env.get("PORT") ?? 8000) }, app.fetch);
