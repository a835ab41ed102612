import type { ObjectDeps } from "../objects/deps.ts";
import type { UploadSessionStore } from "./store.ts";

/** What the upload-session core needs: the object core's runtime and the session store. */
export interface UploadDeps extends ObjectDeps {
  uploads: UploadSessionStore;
}
