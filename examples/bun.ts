// Bun: bun examples/bun.ts
import process from "node:process";
import { createApp } from "./app.ts";

const app = createApp(process.env.SESSION_SECRET ?? "");

export default { hostname: "127.0.0.1", port: Number(process.env.PORT ?? 8000), fetch: app.fetch };
