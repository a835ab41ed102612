import { newVersion } from "../objects/version.ts";

/** 26 characters of Crockford's base32, as versions are; anything else names no session. */
const UPLOAD_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** A new upload id: the version layout (time then 80 random bits), so ids sort by creation and never collide. */
export function newUploadId(nowMs: number): string {
  return newVersion(nowMs);
}

export function isUploadId(text: string): boolean {
  return UPLOAD_ID.test(text);
}
