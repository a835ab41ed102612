export { buildSignatureBase } from "./base.ts";
export * from "./constants.ts";
export { contentDigest, contentDigestOfSha256, parseContentDigest } from "./content-digest.ts";
export { checkFreshness, type FreshnessWindow, replayWindowEnd, type SignatureTimes } from "./freshness.ts";
export { messageFromRequest, type RequestLike, type SignedMessage, splitUrl, type UrlTarget } from "./message.ts";
export { type ParsedSignature, parseSignatureHeaders, type SignatureParams } from "./parse.ts";
export { checkProfile, type ProfiledSignature } from "./profile.ts";
export { type SigningKey, type SignRequestInput, signRequest } from "./sign.ts";
export { importEd25519PublicKey, type VerificationKey, verifySignature } from "./verify.ts";
