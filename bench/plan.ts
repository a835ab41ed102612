import { GIB, MIB } from "../shared/bytes.ts";

/** How much a run measures: object sizes, rounds per comparison, auth load duration. */
export interface Plan {
  small: number;
  large: number;
  smallRounds: number;
  largeRounds: number;
  memoryRounds: number;
  uploadRounds: number;
  /** Rounds of session upload vs raw multipart upload of the small object. */
  sessionRounds: number;
  /** The object uploaded in a session and downloaded once in a fresh Worker, for memory (the 2 GiB). */
  sessionLarge: number;
  ttfbPairs: number;
  authRounds: number;
  authMs: number;
  concurrencies: readonly number[];
  /** Rounds of the AWS Node server's downloads; 0 leaves that size out. */
  awsNodeServerSmallRounds: number;
  awsNodeServerLargeRounds: number;
  /** The object committed through a session and fetched once by the `verigate get --direct` process (issue 18's multi-gigabyte done-when); 0 leaves it out. */
  directCliLarge: number;
}

/**
 * Sized to keep a full run near ten minutes on a 2-core machine. Auth runs many short slices rather than a few
 * long ones: on a shared machine, load from other work comes in bursts of seconds, and a median over eight
 * slices shrugs off a burst that would sink one of three.
 */
export const FULL_PLAN: Plan = {
  small: 256 * MIB,
  large: GIB,
  smallRounds: 7,
  largeRounds: 3,
  memoryRounds: 3,
  uploadRounds: 5,
  sessionRounds: 3,
  sessionLarge: 2 * GIB,
  ttfbPairs: 30,
  authRounds: 8,
  authMs: 2000,
  concurrencies: [1, 10],
  awsNodeServerSmallRounds: 5,
  awsNodeServerLargeRounds: 3,
  directCliLarge: 2 * GIB,
};

/** Proves the harness end to end in under a minute; its figures are not comparable with a full run's. */
export const QUICK_PLAN: Plan = {
  small: 16 * MIB,
  large: 64 * MIB,
  smallRounds: 2,
  largeRounds: 2,
  memoryRounds: 1,
  uploadRounds: 2,
  sessionRounds: 1,
  sessionLarge: 64 * MIB,
  ttfbPairs: 5,
  authRounds: 1,
  authMs: 1000,
  concurrencies: [1, 10],
  awsNodeServerSmallRounds: 2,
  awsNodeServerLargeRounds: 1,
  // Minutes of a loaded machine's time for a figure that is only worth taking whole: full runs only.
  directCliLarge: 0,
};
