import type { LifecycleRule } from "@aws-sdk/client-s3";
import type { MediaOpsConfig } from "../../config/media-ops.ts";

/** Key prefixes the rules apply to (see identifications.create.ts and the direct-upload flow). */
export const UPLOADS_PREFIX = "uploads/";
/** Originals stored before content addressing (one object per identification and media). */
export const ORIGINALS_PREFIX = "identifications/";
/** Content-addressed photos (src/modules/photos/): one object shared by every identification that shows it. */
export const PHOTOS_PREFIX = "photos/";

/**
 * The bucket's lifecycle rules. Thumbnails follow their original without a rule of their own: both are written
 * under `identifications/<id>/` (`<media>.jpg` and `<media>.thumb.jpg`) in the same request, so the one prefix
 * rule moves and expires them on the same day. Incomplete multipart uploads are aborted with the unclaimed
 * uploads, so their parts never cost storage either.
 *
 * Content-addressed photos (`photos/<sha>.jpg` and `.thumb.jpg`) are shared by every identification that shows
 * the same photo, so their age must count from their last use, not their first store: a reuse writes the
 * objects again (at most daily, photos.store.ts), and the same days then apply to them as to any original.
 */
export function lifecycleRules(config: MediaOpsConfig["lifecycle"]): LifecycleRule[] {
  return [
    {
      ID: "expire-unclaimed-uploads",
      Filter: { Prefix: UPLOADS_PREFIX },
      Status: "Enabled",
      Expiration: { Days: config.uploadsExpireDays },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: config.uploadsExpireDays },
    },
    {
      ID: "originals-cold-then-expire",
      Filter: { Prefix: ORIGINALS_PREFIX },
      Status: "Enabled",
      Transitions: [{ Days: config.originalsColdAfterDays, StorageClass: config.originalsColdStorageClass }],
      Expiration: { Days: config.originalsExpireDays },
    },
    {
      ID: "photos-cold-then-expire",
      Filter: { Prefix: PHOTOS_PREFIX },
      Status: "Enabled",
      Transitions: [{ Days: config.originalsColdAfterDays, StorageClass: config.originalsColdStorageClass }],
      Expiration: { Days: config.originalsExpireDays },
    },
  ];
}
