/**
 * Content-addressed, reference-counted photo storage (issue 17): the functions other flows call.
 * - storePhoto(deps, {bytes, sha256}) -> StoredPhoto: stores (or finds) the stripped copy; no reference yet.
 * - insertMedia (identifications.repo.ts) takes the references with the media rows (acquirePhotos), in one
 *   transaction: a media row always holds exactly one reference until it is released.
 * - releaseMedia(trx, mediaIds) / releasePhotosOfUser(trx, userId): give references back (purge, erasure).
 * - sweepUnreferencedPhotos(deps, opts): deletes the objects of photos nobody references (media.purge).
 */

export {
  discardWrittenPhotos,
  releasePhotosOfUser,
  type SweepOptions,
  sweepUnreferencedPhotos,
} from "./photos.release.ts";
export { acquirePhotos, PhotoGoneError, releaseMedia } from "./photos.repo.ts";
export {
  findStoredPhoto,
  type PhotoStoreDeps,
  type PhotoUpload,
  type StoredPhoto,
  storeNewPhoto,
  storePhoto,
} from "./photos.store.ts";
