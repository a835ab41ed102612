/** Verigate's RFC 9421 profile (PROTOCOL section 1), in one place so it can be audited on its own. */

/** Every signature binds method and full target, so a captured signature cannot be moved to another request. */
export const REQUIRED_COMPONENTS: readonly string[] = ["@method", "@authority", "@path", "@query"];

/** Covered whenever there is a body: the signature then binds the bytes through their RFC 9530 digest. */
export const BODY_COMPONENT = "content-digest";

/** 22 characters of base64 carry 132 bits: the protocol asks for at least 128 bits of nonce. */
export const MIN_NONCE_CHARS = 22;
/** Bounds the header size and the work spent hashing a nonce into its replay-store key. */
export const MAX_NONCE_CHARS = 128;
/** Base64 or base64url alphabet, optionally `=`-padded at the end. */
export const NONCE_PATTERN = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** The only `tag` value accepted, when a signer sends one (RFC 9421 section 2.3). */
export const VERIGATE_TAG = "verigate";

export type SignatureAlgorithm = "ed25519" | "hmac-sha256";
export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = ["ed25519", "hmac-sha256"];

/** `@authority` omits a port only when it is the default of the scheme (RFC 9421 section 2.2.3). */
export const DEFAULT_PORT_BY_SCHEME: ReadonlyMap<string, string> = new Map([
  ["http", "80"],
  ["https", "443"],
]);

/** 256 bits: a random nonce then never collides across all keys and all signatures. */
export const SIGNER_NONCE_BYTES = 32;
export const DEFAULT_SIGNATURE_LABEL = "sig1";

export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
export const HMAC_SHA256_BYTES = 32;
