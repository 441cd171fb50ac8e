// Node 22.18+ or 24 (which run TypeScript): node examples/node.ts
import process from "node:process";
import { serve } from "@hono/node-server";
import { createApp } from "./app.ts";

const app = createApp(process.env.SESSION_SECRET ?? "");
const port = Number(process.env.PORT ?? 8000);
serve({ fetch: app.fetch, hostname: "127.0.0.1", port }, (info) => {
  console.log(`Listening on http://127.0.0.1:${info.port}/`);
});
