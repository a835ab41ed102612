/** Min, median and max of one measured quantity across the interleaved rounds. */
export interface Summary {
  min: number;
  median: number;
  max: number;
  samples: number[];
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error("no samples to summarize");
  const sorted = [...samples].sort((a, b) => a - b);
  return { min: sorted[0] as number, median: percentile(sorted, 50), max: sorted[sorted.length - 1] as number, samples: [...samples] };
}

/** Linear interpolation between closest ranks of already sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error("no values for a percentile");
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.min(low + 1, sorted.length - 1);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (rank - low);
}
