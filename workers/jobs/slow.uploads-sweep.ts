import { sweepOldUploads } from "../../src/modules/uploads/index.ts";
import type { JobDefinition } from "../job-types.ts";

/**
 * slow lane, scheduled (UPLOADS_SWEEP_EVERY_MS): direct uploads nobody claimed within
 * UPLOADS_UNCLAIMED_MAX_AGE_HOURS (24 h) lose their objects, then their rows, in pages, stopping cleanly at the
 * time limit. The bucket's lifecycle rule for `uploads/` (MEDIA_UPLOADS_EXPIRE_DAYS, 1 day) is the backstop for
 * objects whose row is gone; this job is what works with the local store and keeps the rows in step. Deleting an
 * object already gone is fine, so a rerun or redelivery only finishes the work.
 */
export const uploadsSweep: JobDefinition<"uploads.sweep"> = {
  async run(deps, payload, ctx) {
    const maxAgeSeconds = payload.maxAgeSeconds ?? deps.config.mediaFlows.unclaimedMaxAgeSeconds;
    let removed = 0;
    for (;;) {
      ctx.signal.throwIfAborted();
      const n = await sweepOldUploads(deps, { maxAgeSeconds, limit: payload.limit });
      removed += n;
      if (n < payload.limit) break;
    }
    ctx.logger.info({ removed, maxAgeSeconds }, "old uploads removed");
    return { removed };
  },
};
