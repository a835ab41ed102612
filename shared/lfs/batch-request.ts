import { SHARE, VerigateError } from "../errors/index.ts";

/**
 * The batch request of git-lfs `docs/api/batch.md`, checked as a whole: what makes the request itself unusable is
 * a failure here; what is wrong with one object (its oid, its size) is that object's error in the answer
 * (`batch.ts`), so the client learns which objects to fix.
 */
export interface BatchRequest {
  operation: "upload" | "download";
  /** As sent: each is validated on its own. */
  objects: { oid: unknown; size: unknown }[];
}

/** Objects one batch may name: git-lfs sends at most 100 (`lfs.transfer.batchSize`), and each costs metadata reads. */
export const MAX_BATCH_OBJECTS = 100;
/** The only transfer adapter served: a plain HTTP PUT or GET per object. */
export const BASIC_TRANSFER = "basic";

/**
 * `bad_request` for a body that is not a batch request, `unsupported_hash_algo` (409) for a hash other than sha256,
 * `too_large` (413) for more than `MAX_BATCH_OBJECTS` objects. `ref` is tolerated and unused: a token's access is
 * per repository, not per ref.
 */
export function parseBatchRequest(body: unknown): BatchRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new VerigateError("bad_request", "the body must be a JSON object", SHARE);
  const { operation, objects, transfers, hash_algo: hashAlgo } = body as Record<string, unknown>;
  if (operation !== "upload" && operation !== "download") throw new VerigateError("bad_request", "operation must be upload or download", SHARE);
  if (hashAlgo !== undefined && hashAlgo !== null && hashAlgo !== "sha256") {
    throw new VerigateError("unsupported_hash_algo", "hash_algo must be sha256", SHARE);
  }
  if (transfers !== undefined && transfers !== null) {
    if (!Array.isArray(transfers)) throw new VerigateError("bad_request", "transfers must be an array", SHARE);
    if (!transfers.includes(BASIC_TRANSFER)) throw new VerigateError("bad_request", "this server offers the basic transfer adapter only", SHARE);
  }
  if (!Array.isArray(objects)) throw new VerigateError("bad_request", "objects must be an array", SHARE);
  if (objects.length > MAX_BATCH_OBJECTS) {
    throw new VerigateError("too_large", `${objects.length} objects; a batch may name at most ${MAX_BATCH_OBJECTS}`, SHARE);
  }
  return {
    operation,
    objects: objects.map((item: unknown) => {
      const { oid, size } = typeof item === "object" && item !== null ? (item as Record<string, unknown>) : {};
      return { oid, size };
    }),
  };
}
