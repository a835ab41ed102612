import { VerigateError } from "./errors/index.ts";

/** Eight hex digits (32 bits) pick the shard: far more than any shard count, so the modulo bias is negligible. */
const SHARD_HEX_DIGITS = 8;

/**
 * Names of `count` Durable Objects, `<prefix>-<n>`, one picked from the leading hex digits of a uniformly spread
 * digest, so one digest always lands on the same object. Throws `misconfigured` for a count that is not a
 * positive integer.
 */
export class ShardNames {
  readonly #prefix: string;
  readonly #count: number;

  constructor(prefix: string, count: number) {
    if (!Number.isInteger(count) || count < 1) throw new VerigateError("misconfigured", `${prefix} count must be a positive integer, got ${count}`);
    this.#prefix = prefix;
    this.#count = count;
  }

  of(hexDigest: string): string {
    return `${this.#prefix}-${Number.parseInt(hexDigest.slice(0, SHARD_HEX_DIGITS), 16) % this.#count}`;
  }
}
