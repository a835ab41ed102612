import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** Builds of older sources are removed once this old; younger ones may still be starting in a run in progress. */
const STALE_BUILD_MS = 60 * 60 * 1000;

/**
 * What a build is made from: every file under `dirs` and each of `files` (repository paths; the lockfile stands
 * for every dependency).
 */
export interface BuildSources {
  dirs: string[];
  files: string[];
}

/**
 * The directory `build` fills, kept in the temporary directory under `cacheName` and shared by every test file (and
 * later runs) while every file in `sources` is unchanged: building (bundling a gateway) is most of a harness's start.
 */
export async function cachedBuild(cacheName: string, sources: BuildSources, build: (outdir: string) => Promise<void>): Promise<string> {
  const cache = join(tmpdir(), cacheName);
  const key = await sourcesDigest(sources);
  const cached = join(cache, key);
  if (await exists(cached)) return cached;
  await mkdir(cache, { recursive: true });
  const outdir = await mkdtemp(join(cache, "building-"));
  try {
    await build(outdir);
  } catch (error) {
    await rm(outdir, { recursive: true, force: true });
    throw error;
  }
  // Another test file may have built the same sources meanwhile; either copy is the same build.
  await rename(outdir, cached).catch(() => rm(outdir, { recursive: true, force: true }));
  await removeStaleBuilds(cache, key);
  return cached;
}

/** A digest of every file of `sources`, with its path. */
async function sourcesDigest({ dirs, files }: BuildSources): Promise<string> {
  const hash = createHash("sha256");
  const listed = await Promise.all(dirs.map((dir) => readdir(join(REPO_ROOT, dir), { recursive: true, withFileTypes: true })));
  const paths = [
    ...listed
      .flat()
      .filter((entry) => entry.isFile())
      .map((entry) => relative(REPO_ROOT, join(entry.parentPath, entry.name))),
    ...files,
  ].sort();
  for (const path of paths)
    hash
      .update(`${path}\0`)
      .update(await readFile(join(REPO_ROOT, path)))
      .update("\0");
  return hash.digest("hex");
}

async function removeStaleBuilds(cache: string, current: string): Promise<void> {
  const cutoff = Date.now() - STALE_BUILD_MS;
  for (const entry of await readdir(cache)) {
    const path = join(cache, entry);
    const modified = await stat(path).then(
      (stats) => stats.mtimeMs,
      () => Date.now(),
    );
    if (entry !== current && modified < cutoff) await rm(path, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
