import { newVersion, VERSION_ID } from "../objects/version.ts";

/** A new upload id: the version layout (time then 80 random bits), so ids sort by creation and never collide. */
export function newUploadId(nowMs: number): string {
  return newVersion(nowMs);
}

/** 26 characters of Crockford's base32, as versions are; anything else names no session. */
export function isUploadId(text: string): boolean {
  return VERSION_ID.test(text);
}
