/**
 * The links between the documents: every relative link of `README.md`, `docs/` and
 * `bench/README.md` leads to a file of the repository (and a `#fragment` to a heading of it),
 * and the documents the package publishes (its page on JSR and npm) lead only to files the
 * package carries too.
 */
import assert from "node:assert/strict";
import { publishedFiles } from "../scripts/build_npm.ts";
import { ROOT } from "./_server.ts";

/** The Markdown files checked, relative to the repository root. */
const DOCUMENTS = [
  "README.md",
  "bench/README.md",
  ...[...Deno.readDirSync(`${ROOT}docs`)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => `docs/${entry.name}`)
    .sort(),
  "docs/screenshots/README.md",
];

interface Link {
  /** The file the link leads to, relative to the repository root. */
  path: string;
  /** The fragment after `#`, if any. */
  fragment: string | undefined;
  /** The link as written, for messages. */
  written: string;
}

/** The lines of a Markdown text outside fenced code blocks; inline code emptied unless kept. */
function prose(text: string, keepCode = false): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of text.split("\n")) {
    const opening = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && opening) fence = opening;
    else if (fence !== undefined && opening?.startsWith(fence)) fence = undefined;
    else if (fence === undefined) lines.push(keepCode ? line : line.replace(/`[^`]*`/g, "``"));
  }
  return lines;
}

/** The relative links of a document (images too), resolved against its folder. */
function linksOf(file: string): Link[] {
  const folder = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
  const links: Link[] = [];
  for (const line of prose(Deno.readTextFileSync(`${ROOT}${file}`))) {
    for (const match of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const written = match[1]!;
      if (/^[a-z][a-z+.-]*:/i.test(written)) continue; // https:, mailto: and the like
      const [target = "", fragment] = written.split("#", 2);
      links.push({ path: target === "" ? file : resolve(folder + target), fragment, written });
    }
  }
  return links;
}

function resolve(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "." && part !== "") parts.push(part);
  }
  return parts.join("/") + (path.endsWith("/") ? "/" : "");
}

/** The fragments GitHub gives a document's headings. */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of prose(Deno.readTextFileSync(`${ROOT}${file}`), true)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    const base = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(`${ROOT}${path}`);
    return true;
  } catch {
    return false;
  }
}

for (const file of DOCUMENTS) {
  Deno.test(`${file}: every relative link leads to a file of the repository, and to a heading of it`, () => {
    const broken: string[] = [];
    for (const link of linksOf(file)) {
      if (!exists(link.path)) broken.push(`${link.written}: no ${link.path}`);
      else if (link.fragment !== undefined && link.path.endsWith(".md")) {
        if (!anchorsOf(link.path).has(link.fragment)) {
          broken.push(`${link.written}: no heading #${link.fragment} in ${link.path}`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });
}

Deno.test("the documents the package publishes link only to files it publishes too", async () => {
  const published = new Set(await publishedFiles(Deno.execPath()));
  const documents = [...published].filter((path) => path.endsWith(".md"));
  assert.ok(documents.includes("README.md"), "the package's page, README.md, is published");
  const outside: string[] = [];
  for (const document of documents) {
    for (const link of linksOf(document)) {
      const inside = link.path.endsWith("/")
        ? [...published].some((path) => path.startsWith(link.path))
        : published.has(link.path);
      if (!inside) outside.push(`${document}: ${link.written}`);
    }
  }
  assert.deepEqual(outside, []);
});
