// Deno: deno run --allow-net --allow-env --allow-read --allow-write --unstable-kv examples/deno.ts
// Deno KV keeps the revocation list, so logouts hold against copies of the cookie and
// /logout-everywhere is served: the project's KV on Deno Deploy, Deno's own file locally, or
// the file SESSION_KV names.
import { kvRevocation } from "@sealed/sessions/kv";
import { createApp } from "./app.ts";

const kv = await Deno.openKv(Deno.env.get("SESSION_KV"));
const app = createApp(Deno.env.get("SESSION_SECRET") ?? "", kvRevocation(kv));
Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.env.get("PORT") ?? 8000) }, app.fetch);
