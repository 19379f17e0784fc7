import type { LifecycleRule } from "@aws-sdk/client-s3";
import type { MediaOpsConfig } from "../../config/media-ops.ts";

/** Key prefixes the rules apply to (see identifications.create.ts and the direct-upload flow). */
export const UPLOADS_PREFIX = "uploads/";
export const ORIGINALS_PREFIX = "identifications/";

/**
 * The bucket's lifecycle rules. Thumbnails follow their original without a rule of their own: both are written
 * under `identifications/<id>/` (`<media>.jpg` and `<media>.thumb.jpg`) in the same request, so the one prefix
 * rule moves and expires them on the same day. Incomplete multipart uploads are aborted with the unclaimed
 * uploads, so their parts never cost storage either.
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
  ];
}
