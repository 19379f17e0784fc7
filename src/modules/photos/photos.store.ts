import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { type DecodedPhoto, encodeForStorage } from "../../infra/images/image-pipeline.ts";
import { sweepUnreferencedPhotos } from "./photos.release.ts";
import { findPhotoOfUpload, type PhotoRow, recordPhotoSource, upsertPhoto } from "./photos.repo.ts";

export type StoredPhoto = {
  storageKey: string;
  thumbnailKey: string;
  byteSize: number;
  width: number;
  height: number;
  /** false: these upload bytes were seen before and nothing was decoded, encoded or written. */
  written: boolean;
};

export type PhotoUpload = {
  bytes: Uint8Array;
  sha256: string;
  /** The upload already decoded (for the providers' copy): the stored copy and thumbnail are made from it. */
  decoded?: Promise<DecodedPhoto>;
};
export type PhotoStoreDeps = Pick<Deps, "config" | "db" | "storage">;

const STORAGE_RETRY_AFTER_SECONDS = 5;

function storedPhotoOf(row: PhotoRow): StoredPhoto {
  return {
    storageKey: row.storage_key,
    thumbnailKey: row.thumbnail_key,
    byteSize: row.byte_size,
    width: row.width,
    height: row.height,
    written: false,
  };
}

/**
 * Makes sure the stripped copy of an upload (and its thumbnail) is stored, without taking a reference: the caller
 * references it with its media rows (acquirePhotos, in their transaction). Content-addressed: the key is the
 * SHA-256 of the stripped JPEG, so the same picture is stored once however often and by whom it is uploaded,
 * and the same upload bytes are not even decoded again. Nothing is orphaned on failure: the photo's row is
 * written before its objects, and media.purge deletes the objects of a photo nobody references after the grace.
 * Throws ImageRejectedError for an image that does not decode, AppError 503 when the store is down.
 */
export async function storePhoto(deps: PhotoStoreDeps, upload: PhotoUpload): Promise<StoredPhoto> {
  return (await findStoredPhoto(deps, upload.sha256)) ?? (await storeNewPhoto(deps, upload));
}

/**
 * The photo made from these upload bytes before, if it is still stored (touched: its grace period restarts).
 * Once a day a reuse also writes its objects again, so the bucket's lifecycle rules age a shared photo from its
 * last use: a failed refresh only waits for the next day's reuse (the objects are there; the store logs why).
 */
export async function findStoredPhoto(
  deps: Pick<Deps, "db" | "storage">,
  uploadSha256: string,
): Promise<StoredPhoto | undefined> {
  const known = await findPhotoOfUpload(deps.db.primary, uploadSha256);
  if (known?.refresh_objects) {
    await deps.storage.refresh([known.storage_key, known.thumbnail_key]).catch(() => {});
  }
  return known && storedPhotoOf(known);
}

/** Per store, the uploads being stored now (by upload SHA-256): concurrent identical uploads encode once. */
const inFlight = new WeakMap<object, Map<string, Promise<StoredPhoto>>>();

/**
 * Decodes, strips, re-encodes and stores an upload not seen before (storePhoto without the look-up). Identical
 * uploads arriving together in this process share one encode; the followers did not write it themselves.
 */
export function storeNewPhoto(deps: PhotoStoreDeps, upload: PhotoUpload): Promise<StoredPhoto> {
  let running = inFlight.get(deps.storage);
  if (!running) {
    running = new Map();
    inFlight.set(deps.storage, running);
  }
  const leader = running.get(upload.sha256);
  if (leader) return leader.then((photo) => ({ ...photo, written: false }));
  const stored = encodeAndStore(deps, upload).finally(() => running.delete(upload.sha256));
  running.set(upload.sha256, stored);
  return stored;
}

async function encodeAndStore(deps: PhotoStoreDeps, upload: PhotoUpload): Promise<StoredPhoto> {
  const decoded = upload.decoded ? await upload.decoded : undefined;
  const { stored, thumbnail } = await encodeForStorage(upload.bytes, deps.config.uploads, decoded);
  const contentSha256 = new Bun.CryptoHasher("sha256").update(stored.bytes).digest("hex");
  const photo = {
    storage_key: `photos/${contentSha256}.jpg`,
    thumbnail_key: `photos/${contentSha256}.thumb.jpg`,
    content_sha256: contentSha256,
    byte_size: stored.bytes.byteLength,
    width: stored.width,
    height: stored.height,
  };
  await upsertPhoto(deps.db.primary, photo);
  // Written even when the row existed: the same bytes under the same key, and a concurrent first writer may
  // still be writing (or have failed).
  const puts = await Promise.allSettled([
    deps.storage.put(photo.storage_key, stored.bytes, "image/jpeg"),
    deps.storage.put(photo.thumbnail_key, thumbnail.bytes, "image/jpeg"),
  ]);
  const failed = puts.find((r) => r.status === "rejected");
  if (failed) {
    // What was written goes now unless someone references it meanwhile; else the purge's sweep takes it later.
    await sweepUnreferencedPhotos(deps, { graceSeconds: 0, limit: 1, keys: [photo.storage_key] }).catch(
      () => {},
    );
    throw new AppError("service_unavailable", "The image store is not available.", {
      retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS,
      cause: failed.reason,
    });
  }
  await recordPhotoSource(deps.db.primary, upload.sha256, photo.storage_key);
  return {
    storageKey: photo.storage_key,
    thumbnailKey: photo.thumbnail_key,
    byteSize: photo.byte_size,
    width: photo.width,
    height: photo.height,
    written: true,
  };
}
