import { findPurgeableMedia, markMediaPurged } from "../../src/modules/jobs/media-purge.repo.ts";
import type { JobDefinition } from "../job-types.ts";

/**
 * slow lane, scheduled: removes the stored images (and thumbnails) of identifications soft-deleted longer than
 * MEDIA_RETENTION_DAYS, in pages, stopping cleanly at its time limit. Deleting a missing object is fine and
 * rows are marked after their objects are gone, so a rerun or redelivery only finishes the work.
 */
export const mediaPurge: JobDefinition<"media.purge"> = {
  async run(deps, payload, ctx) {
    const retentionDays = payload.retentionDays ?? deps.config.jobs.mediaRetentionDays;
    let purged = 0;
    for (;;) {
      ctx.signal.throwIfAborted();
      const page = await findPurgeableMedia(deps.db.primary, retentionDays, payload.limit);
      if (page.length === 0) break;
      await deps.storage.delete(page.flatMap((m) => [m.storageKey, m.thumbnailKey]));
      await markMediaPurged(
        deps.db.primary,
        page.map((m) => m.id),
      );
      purged += page.length;
      if (page.length < payload.limit) break;
    }
    ctx.logger.info({ purged, retentionDays }, "media purged");
    return { purged };
  },
};
