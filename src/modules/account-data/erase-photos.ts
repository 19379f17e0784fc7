import type { Deps } from "../../deps.ts";
import { markMediaPurged } from "../jobs/media-purge.repo.ts";
import type { StoredPhoto } from "./erasure.repo.ts";

/**
 * The one place erasure removes an account's stored photos (originals and thumbnails), then marks their rows
 * purged. When photo storage becomes content-addressed and reference-counted, this is the function to re-point
 * at "release these references" (an object shared with another account must stay). Deleting a missing object is
 * fine, and rows are marked only after their objects are gone, so a rerun finishes the work.
 */
export async function eraseStoredPhotos(
  deps: Pick<Deps, "db" | "storage">,
  photos: readonly StoredPhoto[],
): Promise<void> {
  if (photos.length === 0) return;
  await deps.storage.delete(photos.flatMap((p) => [p.storageKey, p.thumbnailKey]));
  await markMediaPurged(
    deps.db.primary,
    photos.map((p) => p.id),
  );
}
