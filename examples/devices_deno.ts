// Deno: deno run -A --unstable-kv examples/devices_deno.ts
// "Where you're signed in" (devices.ts) with Deno KV keeping each user's sessions: Deno's own
// file locally, or the file SESSION_KV names. It has no passwords: a demonstration only.
import { kvRevocation } from "@sealed/sessions/kv";
import { createDevicesApp } from "./devices.ts";

const kv = await Deno.openKv(Deno.env.get("SESSION_KV"));
const app = createDevicesApp(Deno.env.get("SESSION_SECRET") ?? "", kvRevocation(kv));
Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.env.get("PORT") ?? 8000) }, app.fetch);
