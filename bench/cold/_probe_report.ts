/**
 * What `_probe.ts` reports, shared with the benchmark that reads it: the steps of a start, in
 * order, with their labels.
 *
 * @module
 */

/** The steps of the service's own start, in the order `main.ts` takes them. */
export const START_STEPS = [
  ["hono", "import `hono` (the first npm module: also the npm resolver's start)"],
  ["jsx", "import `hono/jsx/jsx-runtime` and `hono/html` (JSX runtime)"],
  ["sessionCore", "import `lib/middleware/middleware.ts` and what it imports"],
  ["config", "import `routes/config.ts`"],
  ["pages", "import `routes/pages.tsx`"],
  ["app", "import `routes/app.tsx` (the rest of it)"],
  ["main", "import `main.ts` (and `routes/server_side.ts`)"],
  ["imports", "all the imports above"],
  ["loadConfig", "`loadConfig()`"],
  ["createApp", "`createApp()` (key derivation starts, asynchronously)"],
  ["firstHealthz", "first `GET /healthz` through `app.request()` (router, headers)"],
  ["firstPost", "first `POST /greeting` (first seal, HTML page)"],
  ["firstGet", "first `GET /session-data` with the cookie (first open, HTML page)"],
  ["secondPost", "second `POST /greeting` (still Web Crypto where node:crypto waits)"],
  ["upgradedPost", "`POST /greeting` once node:crypto has been switched to"],
] as const;

/** Parts measured on their own, each in a fresh process or as the first of its kind. */
export const PART_STEPS = [
  ["webHkdf", 'key derivation over Web Crypto (`backend: "webcrypto"`, first call)'],
  ["webHkdf3", "then three secrets over Web Crypto (rotation: each secret is derived at set-up)"],
  ["webSeal", "first seal over Web Crypto"],
  ["webOpen", "first open over Web Crypto"],
  ["nodeCrypto", "loading `node:crypto` (`process.getBuiltinModule`)"],
  ["nodeHkdf", "key derivation over `node:crypto` (`hkdfSync`, first call after loading)"],
  ["nodeHkdf3", "then three secrets over `node:crypto`"],
  ["nodeSeal", "first seal over `node:crypto`"],
  ["nodeSecondSeal", "second seal over `node:crypto`"],
  ["nodeOpen", "first open over `node:crypto`"],
  ["page", "first render of the greeting page (JSX)"],
  ["pageAgain", "second render of the same page"],
  ["flask", "import `lib/flask/mod.ts` (Flask codec; configured only)"],
  ["kv", "import `lib/kv/mod.ts` (KV layers; configured only)"],
  ["openKv", "`Deno.openKv()` of a fresh file (KV modes)"],
] as const;

/** One step's name. */
export type Step = (typeof START_STEPS)[number][0] | (typeof PART_STEPS)[number][0];

/** Milliseconds per step. */
export type ProbeReport = Partial<Record<Step, number>>;

/** What the probe prints: wall time and the main thread's CPU time per step. */
export interface ProbeOutput {
  wall: ProbeReport;
  cpu: ProbeReport;
}

/**
 * The median of some numbers.
 *
 * @param values The numbers; at least one.
 * @returns Their median (the mean of the middle two for an even count).
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
