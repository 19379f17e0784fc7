import type { Db } from "../../db/connect.ts";
import type { Deps } from "../../deps.ts";
import {
  deleteUnreferencedPhotos,
  listUnreleasedMediaOfUser,
  lockIdlePhotos,
  releaseMedia,
} from "./photos.repo.ts";
import type { StoredPhoto } from "./photos.store.ts";

export type SweepOptions = { graceSeconds: number; limit: number; keys?: readonly string[] };

/**
 * Deletes unreferenced photos idle past their grace period: rows first, then objects, in one transaction that
 * holds the rows locked, so a failed object delete rolls the rows back. A transaction referencing one of them
 * meanwhile waits and gets PhotoGoneError (nothing written; the request answers 503 and a retry stores the photo
 * anew), never a reference to deleted objects. Deleting an object already gone is fine: a rerun finishes the work.
 */
export async function sweepUnreferencedPhotos(
  deps: Pick<Deps, "db" | "storage">,
  opts: SweepOptions,
): Promise<number> {
  return deps.db.primary.transaction().execute(async (trx) => {
    const candidates = await lockIdlePhotos(trx, opts);
    const photos = await deleteUnreferencedPhotos(trx, candidates);
    if (photos.length > 0) await deps.storage.delete(photos.flatMap((p) => [p.storageKey, p.thumbnailKey]));
    // The count of candidates, so a caller paging through them stops when a page comes back short.
    return candidates.length;
  });
}

/**
 * Account erasure: releases every photo reference of the user's identifications, in the caller's transaction.
 * Photos nobody else references are deleted by media.purge after the grace period (or at once with
 * sweepUnreferencedPhotos and the returned keys, grace 0, after the transaction commits).
 */
export async function releasePhotosOfUser(db: Db, userId: string): Promise<string[]> {
  return releaseMedia(db, await listUnreleasedMediaOfUser(db, userId));
}

/**
 * A failed request's clean-up: the photos it wrote itself that nobody references are deleted now instead of after
 * the grace period (best effort; the purge's sweep remains the guarantee).
 */
export async function discardWrittenPhotos(
  deps: Pick<Deps, "db" | "storage" | "logger">,
  photos: readonly (StoredPhoto | undefined)[],
): Promise<void> {
  const keys = [...new Set(photos.filter((p) => p?.written).map((p) => p!.storageKey))];
  if (keys.length === 0) return;
  await sweepUnreferencedPhotos(deps, { graceSeconds: 0, limit: keys.length, keys }).catch((err: unknown) => {
    deps.logger.error({ err: String(err), keys }, "photos of a failed request not removed (the purge will)");
  });
}
