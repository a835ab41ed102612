import { rm, stat } from "node:fs/promises";

/** Where `verigate get` keeps a download until it verified: the bytes in `<target>.partial`, what they are of in `<target>.partial.json`. */
export interface PartialFiles {
  target: string;
  data: string;
  state: string;
}

export function partialFilesOf(target: string): PartialFiles {
  return { target, data: `${target}.partial`, state: `${target}.partial.json` };
}

/** The length of the kept bytes, or null when there are none (a state left without them is removed). */
export async function keptLength(files: PartialFiles): Promise<number | null> {
  const length = await stat(files.data).then(
    (info) => info.size,
    () => null,
  );
  if (length === null) await rm(files.state, { force: true });
  return length;
}

export async function discard(files: PartialFiles): Promise<void> {
  await rm(files.data, { force: true });
  await rm(files.state, { force: true });
}
