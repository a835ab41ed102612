/** The Verigate client SDK: runtime-agnostic (WebCrypto, fetch, streams), for Node 22 and browsers. */
export {
  type CompleteUploadOptions,
  type CreateLfsTokenOptions,
  type CreateUploadOptions,
  type GetObjectOptions,
  type ListObjectsOptions,
  type ObjectResponse,
  type PlanDownloadOptions,
  type PreparedRequest,
  type PresignOptions,
  type PutObjectOptions,
  VerigateClient,
  type VerigateClientOptions,
} from "./client.ts";
export type { PartSource, PutLargeOptions } from "./put-large.ts";
export type { ObjectBody } from "./request-body.ts";
export { objectPath } from "./urls.ts";
export { type ApiErrorCode, type IntegrityFailure, VerigateApiError, VerigateIntegrityError, VerigateUsageError } from "./errors.ts";
export { type ExpectedContent, integrityOf, type ObjectIntegrity, verifyBytes } from "./integrity.ts";
export {
  type ClientKey,
  type Ed25519PrivateJwk,
  ed25519Thumbprint,
  type GeneratedEd25519Key,
  generateEd25519Key,
  type HmacJwk,
  importJwk,
  type PrivateJwk,
  publicKeyOf,
} from "./keys.ts";
export type * from "./types.ts";
