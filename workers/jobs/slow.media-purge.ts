import { findPurgeableMedia } from "../../src/modules/jobs/media-purge.repo.ts";
import { releaseMedia, sweepUnreferencedPhotos } from "../../src/modules/photos/index.ts";
import type { JobDefinition } from "../job-types.ts";

/**
 * slow lane, scheduled, in pages, stopping cleanly at its time limit:
 * 1. identifications soft-deleted longer than MEDIA_RETENTION_DAYS release their photo references;
 * 2. photos nobody has referenced for PHOTO_UNREFERENCED_GRACE_SECONDS (released ones, and ones stored by a
 *    request that then failed) lose their objects, then their rows.
 * Photos are content-addressed and shared (src/modules/photos): an object goes only when no media row shows it.
 * Releasing is idempotent and deleting a missing object is fine, so a rerun or redelivery only finishes the work.
 */
export const mediaPurge: JobDefinition<"media.purge"> = {
  async run(deps, payload, ctx) {
    const retentionDays = payload.retentionDays ?? deps.config.jobs.mediaRetentionDays;
    let purged = 0;
    for (;;) {
      ctx.signal.throwIfAborted();
      const page = await findPurgeableMedia(deps.db.primary, retentionDays, payload.limit);
      if (page.length === 0) break;
      await releaseMedia(
        deps.db.primary,
        page.map((m) => m.id),
      );
      purged += page.length;
      if (page.length < payload.limit) break;
    }
    let photosDeleted = 0;
    for (;;) {
      ctx.signal.throwIfAborted();
      const swept = await sweepUnreferencedPhotos(deps, {
        graceSeconds: deps.config.photoUnreferencedGraceSeconds,
        limit: payload.limit,
      });
      photosDeleted += swept;
      if (swept < payload.limit) break;
    }
    ctx.logger.info({ purged, photosDeleted, retentionDays }, "media purged");
    return { purged, photosDeleted };
  },
};
