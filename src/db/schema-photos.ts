import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/**
 * Stored photos, content-addressed (issue 17): one object (and its thumbnail) per distinct stripped image, shared
 * by every media row that shows it. `ref_count` counts the media rows holding it (not yet released); media.purge
 * deletes the objects of a photo unreferenced for PHOTO_UNREFERENCED_GRACE_SECONDS.
 */
export interface PhotosTable {
  storage_key: string;
  thumbnail_key: string;
  /** SHA-256 of the stored JPEG; null for photos stored before content addressing (their keys name the media). */
  content_sha256: string | null;
  byte_size: number;
  width: number;
  height: number;
  ref_count: number;
  created_at: Timestamp;
  /** Last reference taken or released, or last reuse: the grace period of an unreferenced photo starts here. */
  updated_at: Timestamp;
}

/** Upload bytes (SHA-256) -> the photo made from them: a repeated upload is not decoded or re-encoded. */
export interface PhotoSourcesTable {
  upload_sha256: string;
  storage_key: string;
  created_at: Timestamp;
}

export interface PhotoTables {
  photos: PhotosTable;
  photo_sources: PhotoSourcesTable;
}
