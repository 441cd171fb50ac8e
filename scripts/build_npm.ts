/**
 * `deno task build:npm`: writes the npm package to `dist/npm/`, ready for `npm pack`. The
 * TypeScript compiler (pinned below, run through `npx`) turns `lib/` into ES modules and `.d.ts`
 * files, rewriting `./x.ts` imports to `./x.js`; the package's `exports` map mirrors
 * `deno.json`'s, `hono` is a peer dependency, and it carries the JSR package's other files (the
 * README, the licence, the documents), as `deno publish --dry-run` lists them.
 *
 * @module
 */

/** The compiler used for the build; bump deliberately. */
export const TYPESCRIPT = "typescript@5.9.3";

const ROOT = new URL("../", import.meta.url);
const OUT = new URL("dist/npm/", ROOT);

interface DenoJson {
  name: string;
  version: string;
  exports: Record<string, string>;
  imports: Record<string, string>;
}

/**
 * The files of the JSR package, as `deno publish --dry-run` lists them (what `deno.json`
 * `publish` selects), relative to the repository root.
 *
 * @param deno The `deno` to run.
 * @returns The paths, sorted.
 * @throws {Error} When the dry run fails or lists nothing.
 */
export async function publishedFiles(deno = "deno"): Promise<string[]> {
  const root = decodeURIComponent(ROOT.pathname);
  const output = await new Deno.Command(deno, {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  const prefix = `file://${root}`;
  const files = [...text.matchAll(/file:\/\/\S+/g)].map((match) => match[0].slice(prefix.length));
  if (!output.success || files.length === 0) throw new Error(`deno publish --dry-run:\n${text}`);
  return files.sort();
}

/** The files the npm package carries besides the code: the JSR package's, but for `lib/`. */
async function documents(): Promise<string[]> {
  return (await publishedFiles()).filter((path) =>
    !path.startsWith("lib/") && path !== "deno.json"
  );
}

/** `./lib/sealing/mod.ts` → `./esm/sealing/mod`, the same path without `lib/` and `.ts`. */
function built(source: string): string {
  const match = /^\.\/lib\/(.+)\.ts$/.exec(source);
  if (!match) throw new Error(`Cannot map export ${source}: it is not a .ts file under lib/`);
  return `./esm/${match[1]}`;
}

/** The hono version range peers must satisfy, from the pinned `npm:hono@x.y.z`. */
function honoRange(imports: Record<string, string>): string {
  const match = /^npm:hono@(\d+)\.(\d+)\.\d+$/.exec(imports.hono ?? "");
  if (!match) throw new Error(`Cannot read the hono version from deno.json: ${imports.hono}`);
  return `^${match[1]}.${match[2]}.0`;
}

async function run(command: string, args: string[]): Promise<void> {
  const { code } = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${code}`);
}

/** Relative specifiers in `.d.ts` files still end in `.ts`; point them at the built files. */
async function rewriteDeclarations(dir: URL): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) await rewriteDeclarations(url);
    else if (entry.name.endsWith(".d.ts")) {
      const text = await Deno.readTextFile(url);
      const rewritten = text.replace(
        /(\bfrom\s+|\bimport\s*\(\s*)(["'])(\.{1,2}\/[^"']+)\.ts\2/g,
        (_, lead, quote, path) => `${lead}${quote}${path}.js${quote}`,
      );
      if (rewritten !== text) await Deno.writeTextFile(url, rewritten);
    }
  }
}

/** What the check after the build refuses in the output: `.ts` specifiers, top-level await. */
async function verify(dir: URL): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) {
      await verify(url);
      continue;
    }
    const text = await Deno.readTextFile(url);
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "");
    if (/(from\s+|import\s*\(\s*)["']\.{1,2}\/[^"']+\.ts["']/.test(code)) {
      throw new Error(`${url.pathname} still imports a .ts file`);
    }
    if (
      entry.name.endsWith(".js") && /^(const|let|var|export const)[^\n]*=\s*await\b/m.test(code)
    ) {
      throw new Error(`${url.pathname} has a top-level await`);
    }
  }
}

/**
 * Builds the package.
 *
 * @returns The output directory.
 */
export async function buildNpm(): Promise<URL> {
  const deno: DenoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  await Deno.remove(OUT, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  await run("npx", [
    "--yes",
    `--package=${TYPESCRIPT}`,
    "--",
    "tsc",
    "-p",
    "scripts/tsconfig.npm.json",
  ]);
  await rewriteDeclarations(new URL("esm/", OUT));
  await verify(new URL("esm/", OUT));

  const docs = await documents();
  const exports: Record<string, { types: string; default: string }> = {};
  for (const [entry, source] of Object.entries(deno.exports)) {
    const path = built(source);
    exports[entry] = { types: `${path}.d.ts`, default: `${path}.js` };
  }
  const pkg = {
    name: deno.name,
    version: deno.version,
    description:
      "Stateless, encrypted (XAES-256-GCM) cookie sessions for Hono on Deno, Node, Bun and Workers",
    license: "MIT",
    type: "module",
    sideEffects: false,
    exports,
    files: ["esm/", ...docs],
    engines: { node: ">=20.16" },
    peerDependencies: { hono: honoRange(deno.imports) },
    keywords: ["hono", "session", "cookie", "xaes-256-gcm", "encryption", "deno", "workers"],
  };
  await Deno.writeTextFile(new URL("package.json", OUT), JSON.stringify(pkg, null, 2) + "\n");
  for (const file of docs) {
    await Deno.mkdir(new URL(".", new URL(file, OUT)), { recursive: true });
    await Deno.copyFile(new URL(file, ROOT), new URL(file, OUT));
  }
  return OUT;
}

if (import.meta.main) {
  const out = await buildNpm();
  console.log(`npm package written to ${out.pathname} (npm pack ${out.pathname})`);
}
