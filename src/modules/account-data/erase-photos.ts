import type { Deps } from "../../deps.ts";
import { releaseMedia, sweepUnreferencedPhotos } from "../photos/index.ts";
import type { StoredPhoto } from "./erasure.repo.ts";

/**
 * The one place erasure gives up an account's stored photos. Photos are content-addressed and shared (another
 * account may show the same picture), so erasure releases the account's references (its media rows are marked
 * purged) and deletes at once the objects nobody else references (the sweep is safe against a concurrent upload
 * of the same picture: that request waits, fails with 503 and its retry stores the photo anew). Releasing twice is
 * a no-op and the media.purge job's sweep catches anything left, so a rerun finishes the work.
 */
export async function eraseStoredPhotos(
  deps: Pick<Deps, "db" | "storage">,
  photos: readonly StoredPhoto[],
): Promise<void> {
  if (photos.length === 0) return;
  const idle = await releaseMedia(
    deps.db.primary,
    photos.map((p) => p.id),
  );
  if (idle.length > 0)
    await sweepUnreferencedPhotos(deps, { graceSeconds: 0, limit: idle.length, keys: idle });
}
