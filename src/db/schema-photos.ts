import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/**
 * Stored photos, content-addressed (issue 17): one object (and its thumbnail) per distinct stripped image, shared
 * by every media row that shows it. Its references are those media rows (not yet released: purged_at null),
 * counted through media_storage_key_idx; media.purge deletes a photo unreferenced and idle for
 * PHOTO_UNREFERENCED_GRACE_SECONDS.
 */
export interface PhotosTable {
  storage_key: string;
  thumbnail_key: string;
  /** SHA-256 of the stored JPEG; null for photos stored before content addressing (their keys name the media). */
  content_sha256: string | null;
  byte_size: number;
  width: number;
  height: number;
  created_at: Timestamp;
  /** Stored, last reused (refreshed at most once a minute) or last released: the grace period starts here. */
  updated_at: Timestamp;
  /** The objects' last write (stored, or refreshed on reuse at most daily): lifecycle rules age them from here. */
  objects_written_at: Timestamp;
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
