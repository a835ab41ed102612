import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/** A relative link of a Markdown file that does not lead to a tracked file (or heading) inside the repository. */
export interface BrokenLink {
  line: number;
  target: string;
  reason: string;
}

export interface Repository {
  root: string;
  /** Paths relative to `root`, `/`-separated, as `git ls-files` prints them. */
  tracked: ReadonlySet<string>;
  /** Reads a tracked Markdown file, for the headings a `#fragment` names. */
  read(path: string): string;
}

/** `[text](target)` and `![alt](target)`; the target may be `<...>` and be followed by a title. */
const INLINE_LINK = /!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
/** `[label]: target` reference definitions. */
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/;
/** `http:`, `mailto:`... and protocol-relative `//host`: not files of this repository. */
const EXTERNAL = /^([a-z][a-z0-9+.-]*:|\/\/)/i;

/**
 * Every relative link of `markdown` (the file `path` of `repo`) that is broken: its target is outside the
 * repository, not a tracked file or a folder holding tracked files, or names a heading the target Markdown
 * file does not have. Links inside code (fenced blocks and inline spans) are not links, and external ones are
 * someone else's to keep.
 */
export function brokenLinks(repo: Repository, path: string, markdown: string): BrokenLink[] {
  const broken: BrokenLink[] = [];
  for (const { line, target } of linksOf(markdown)) {
    let reason: string | undefined;
    try {
      reason = whyBroken(repo, path, target);
    } catch {
      reason = "malformed percent-encoding";
    }
    if (reason) broken.push({ line, target, reason });
  }
  return broken;
}

function linksOf(markdown: string): { line: number; target: string }[] {
  const links: { line: number; target: string }[] = [];
  for (const { line, text } of proseLines(markdown)) {
    const prose = text.replace(/(`+)[^`]*?\1/g, "");
    const definition = REFERENCE_DEFINITION.exec(prose)?.[1];
    if (definition !== undefined) links.push({ line, target: unbracket(definition) });
    for (const match of prose.matchAll(INLINE_LINK)) links.push({ line, target: unbracket(match[1] ?? "") });
  }
  return links;
}

/** The lines outside fenced code blocks, numbered from 1. */
function proseLines(markdown: string): { line: number; text: string }[] {
  const lines: { line: number; text: string }[] = [];
  let fence: string | undefined;
  markdown.split("\n").forEach((text, index) => {
    const opening = FENCE.exec(text)?.[1];
    if (fence === undefined && opening === undefined) lines.push({ line: index + 1, text });
    else if (fence === undefined) fence = opening;
    else if (opening !== undefined && opening[0] === fence[0] && opening.length >= fence.length) fence = undefined;
  });
  return lines;
}

function whyBroken(repo: Repository, from: string, target: string): string | undefined {
  if (EXTERNAL.test(target)) return undefined;
  const hash = target.indexOf("#");
  const pathPart = hash === -1 ? target : target.slice(0, hash);
  const fragment = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
  let file = from;
  if (pathPart !== "") {
    const decoded = decodeURIComponent(pathPart);
    // GitHub resolves a leading "/" from the repository root.
    const absolute = decoded.startsWith("/") ? join(repo.root, decoded) : resolve(repo.root, dirname(from), decoded);
    const inside = relative(repo.root, absolute);
    if (inside.startsWith("..") || isAbsolute(inside)) return "points outside the repository";
    file = inside.split(sep).join("/").replace(/\/$/, "");
    if (!existsSync(absolute)) return "no such file";
    if (!isTracked(repo, file)) return "not tracked by git, so a clone does not have it";
  }
  if (fragment === undefined || fragment === "" || !file.endsWith(".md")) return undefined;
  return headingSlugs(repo.read(file)).has(fragment.toLowerCase()) ? undefined : `no heading #${fragment} in ${file}`;
}

function isTracked(repo: Repository, file: string): boolean {
  if (file === "" || repo.tracked.has(file)) return true;
  for (const tracked of repo.tracked) if (tracked.startsWith(`${file}/`)) return true;
  return false;
}

/** The anchors GitHub gives a file's headings: lowercased, punctuation dropped, spaces as hyphens, repeats numbered. */
export function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(markdown)) {
    const heading = HEADING.exec(text)?.[1];
    if (heading === undefined) continue;
    const plain = heading.replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1");
    const base = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.add(count === 0 ? base : `${base}-${count}`);
  }
  return slugs;
}

function unbracket(target: string): string {
  return target.startsWith("<") && target.endsWith(">") ? target.slice(1, -1) : target;
}
