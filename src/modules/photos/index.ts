/**
 * Content-addressed, reference-counted photo storage (issue 17): the functions other flows call.
 * - storePhoto(deps, {bytes, sha256}) -> StoredPhoto: stores (or finds) the stripped copy; no reference yet.
 * - insertMedia (identifications.repo.ts) pins the photos (acquirePhotos) and writes the media rows, which are
 *   the references, in the caller's transaction: a media row holds one reference until it is released.
 * - releaseMedia(trx, mediaIds) / releasePhotosOfUser(trx, userId): give references back (purge, erasure).
 * - sweepUnreferencedPhotos(deps, opts): deletes the objects of photos nobody references (media.purge).
 */

export {
  discardWrittenPhotos,
  releasePhotosOfUser,
  type SweepOptions,
  sweepUnreferencedPhotos,
} from "./photos.release.ts";
export { acquirePhotos, PhotoGoneError, photoReferenceCount, releaseMedia } from "./photos.repo.ts";
export {
  findStoredPhoto,
  type PhotoStoreDeps,
  type PhotoUpload,
  type StoredPhoto,
  storeNewPhoto,
  storePhoto,
} from "./photos.store.ts";
