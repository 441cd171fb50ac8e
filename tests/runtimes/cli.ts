/**
 * Entry of the suite on Node, Bun and Deno: `suite.mjs <runtime> suite|seal|open [input.json]`
 * prints the result as JSON on stdout.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";
import { openCookies, runSuite, sealCookies } from "./suite.ts";

const [runtime = "unknown", mode = "suite", input] = process.argv.slice(2);
let output: unknown;
if (mode === "suite") output = await runSuite(runtime);
else if (mode === "seal") output = await sealCookies(runtime);
else if (mode === "open") output = await openCookies(JSON.parse(readFileSync(input!, "utf8")));
else throw new Error(`Unknown mode ${mode}: expected suite, seal or open`);
process.stdout.write(JSON.stringify(output) + "\n");
