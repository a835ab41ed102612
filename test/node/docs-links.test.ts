import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { brokenLinks, type Repository } from "./support/markdown-links.ts";

const root = execFileSync("git", ["rev-parse", "--show-toplevel"], { encoding: "utf8" }).trim();
const gitFiles = (...pattern: string[]) =>
  execFileSync("git", ["ls-files", "-z", "--", ...pattern], { cwd: root, encoding: "utf8" })
    .split("\0")
    .filter(Boolean);

const repo: Repository = {
  root,
  tracked: new Set(gitFiles()),
  read: (path) => readFileSync(join(root, path), "utf8"),
};
const markdownFiles = gitFiles("*.md");

/** A clone has only what git tracks: every relative link of the docs must lead there (issue #16). */
describe("relative links in tracked Markdown files", () => {
  it("finds the project's Markdown files", () => {
    expect(markdownFiles).toContain("README.md");
    expect(markdownFiles).toContain("docs/PROTOCOL.md");
  });

  it.each(markdownFiles)("%s: every relative link resolves inside the repository", (path) => {
    expect(brokenLinks(repo, path, repo.read(path))).toEqual([]);
  });
});

describe("brokenLinks", () => {
  const fixture: Repository = {
    root,
    tracked: repo.tracked,
    read: (path) => (path === "docs/a.md" ? "# Title\n## Log events\n" : repo.read(path)),
  };
  const check = (markdown: string) => brokenLinks(fixture, "docs/a.md", markdown).map(({ line, target, reason }) => ({ line, target, reason }));

  it("reports a missing file, a path out of the repository and an unknown heading, with their lines", () => {
    const markdown = ["[gone](missing.md)", "", "[out](../../shared/PROTOCOL.md) and [here](#no-such-heading)"].join("\n");
    expect(check(markdown)).toEqual([
      { line: 1, target: "missing.md", reason: "no such file" },
      { line: 3, target: "../../shared/PROTOCOL.md", reason: "points outside the repository" },
      { line: 3, target: "#no-such-heading", reason: "no heading #no-such-heading in docs/a.md" },
    ]);
  });

  it("accepts tracked files, folders, headings and reference definitions", () => {
    const markdown = ["[p](PROTOCOL.md#7-configuration) [up](../README.md) [dir](../deploy/)", "[self](#log-events)", "[ref]: STORAGE.md"].join("\n");
    expect(check(markdown)).toEqual([]);
  });

  it("ignores external links and links inside code", () => {
    const markdown = ["[x](https://example.com/missing.md) [m](mailto:a@b) `[c](missing.md)`", "```", "[d](missing.md)", "```"].join("\n");
    expect(check(markdown)).toEqual([]);
  });
});
