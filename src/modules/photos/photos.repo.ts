import { type ExpressionBuilder, type Selectable, sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { Database } from "../../db/schema.ts";
import type { PhotosTable } from "../../db/schema-photos.ts";

export type PhotoRow = Selectable<PhotosTable>;

/** A reuse refreshes a photo's `updated_at` at most this often (one write a minute for a popular photo). */
const TOUCH_EVERY_SECONDS = 60;
/** A reuse writes a photo's objects again at most this often, so the bucket ages them from their last use. */
const REFRESH_OBJECTS_EVERY_SECONDS = 86_400;

export type FoundPhoto = PhotoRow & {
  /** This caller claimed the daily refresh of the objects (photos.store.ts writes them again). */
  refresh_objects: boolean;
};

/**
 * The photo already made from these upload bytes. Its `updated_at` (where the purge's grace period starts) is
 * refreshed when older than a minute, so a photo about to be referenced is never swept under a request; a
 * popular photo is not written on every reuse. When its objects were last written more than a day ago this caller
 * also claims their refresh (`refresh_objects`; one caller a day). One round trip, no lock waited for.
 */
export async function findPhotoOfUpload(db: Db, uploadSha256: string): Promise<FoundPhoto | undefined> {
  const result = await sql<FoundPhoto>`
    with found as (
      select p.* from photo_sources s join photos p on p.storage_key = s.storage_key
      where s.upload_sha256 = ${uploadSha256}
    ), touched as (
      update photos set
        updated_at = now(),
        objects_written_at = case
          when photos.objects_written_at < now() - make_interval(secs => ${REFRESH_OBJECTS_EVERY_SECONDS})
          then now() else photos.objects_written_at end
      from found
      where photos.storage_key = found.storage_key
        and (found.updated_at < now() - make_interval(secs => ${TOUCH_EVERY_SECONDS})
          or found.objects_written_at < now() - make_interval(secs => ${REFRESH_OBJECTS_EVERY_SECONDS}))
      returning photos.storage_key, photos.objects_written_at <> found.objects_written_at as refreshed
    )
    select found.*, coalesce(touched.refreshed, false) as refresh_objects
    from found left join touched on touched.storage_key = found.storage_key
  `.execute(db);
  return result.rows[0];
}

/** Records a photo before its objects are written (so no object is ever untracked), or touches the existing one. */
export async function upsertPhoto(
  db: Db,
  photo: Pick<
    PhotoRow,
    "storage_key" | "thumbnail_key" | "content_sha256" | "byte_size" | "width" | "height"
  >,
): Promise<void> {
  await db
    .insertInto("photos")
    .values(photo)
    // The objects are written right after (again, for a known photo): their age starts over.
    .onConflict((oc) =>
      oc.column("storage_key").doUpdateSet({ updated_at: sql`now()`, objects_written_at: sql`now()` }),
    )
    .execute();
}

/** After the objects are written: later uploads of the same bytes reuse the photo. */
export async function recordPhotoSource(db: Db, uploadSha256: string, storageKey: string): Promise<void> {
  await db
    .insertInto("photo_sources")
    .values({ upload_sha256: uploadSha256, storage_key: storageKey })
    .onConflict((oc) => oc.column("upload_sha256").doUpdateSet({ storage_key: storageKey }))
    .execute();
}

/** A photo's row was swept between storing it and referencing it (a race with a zero-grace sweep). */
export class PhotoGoneError extends Error {
  override readonly name = "PhotoGoneError";
}

/**
 * Pins the photos the caller's transaction is about to reference with its media rows (the references): a
 * KEY SHARE lock, which concurrent references share (no hot row) and which the sweep's FOR UPDATE cannot take,
 * so a photo is never deleted under a transaction that references it. Throws PhotoGoneError when a photo is no
 * longer recorded: store it again (storePhoto) and retry.
 */
export async function acquirePhotos(db: Db, storageKeys: readonly string[]): Promise<void> {
  const keys = [...new Set(storageKeys)];
  if (keys.length === 0) return;
  const rows = await db
    .selectFrom("photos")
    .select("storage_key")
    .where("storage_key", "in", keys)
    .forKeyShare()
    .execute();
  if (rows.length !== keys.length) {
    const found = new Set(rows.map((r) => r.storage_key));
    throw new PhotoGoneError(`photos no longer stored: ${keys.filter((k) => !found.has(k)).join(", ")}`);
  }
}

/** How many media rows reference the photo (its reference count). */
export async function photoReferenceCount(db: Db, storageKey: string): Promise<number> {
  const row = await db
    .selectFrom("media")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("storage_key", "=", storageKey)
    .where("purged_at", "is", null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Releases the references of these media rows (marks them purged: the objects are no longer theirs to keep) and
 * starts the grace period of the photos nobody references any more, whose keys it returns. Idempotent.
 */
export async function releaseMedia(db: Db, mediaIds: readonly string[]): Promise<string[]> {
  if (mediaIds.length === 0) return [];
  const released = await db
    .updateTable("media")
    .set({ purged_at: sql`now()`, updated_at: sql`now()` })
    .where("id", "in", [...mediaIds])
    .where("purged_at", "is", null)
    .returning("storage_key")
    .execute();
  const keys = [...new Set(released.map((r) => r.storage_key))];
  if (keys.length === 0) return [];
  const idle = await db
    .updateTable("photos")
    .set({ updated_at: sql`now()` })
    .where("storage_key", "in", keys)
    .where(({ not, exists, selectFrom }) => not(exists(liveReferences(selectFrom))))
    .returning("storage_key")
    .execute();
  return idle.map((r) => r.storage_key);
}

/** The media rows referencing the photo of the enclosing query (not released yet). */
function liveReferences(selectFrom: ExpressionBuilder<Database, "photos">["selectFrom"]) {
  return selectFrom("media")
    .select("media.id")
    .whereRef("media.storage_key", "=", "photos.storage_key")
    .where("media.purged_at", "is", null);
}

/** Every unreleased media row of a user's identifications (account erasure releases them all). */
export async function listUnreleasedMediaOfUser(db: Db, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("media")
    .innerJoin("identifications", "identifications.id", "media.identification_id")
    .select("media.id")
    .where("identifications.user_id", "=", userId)
    .where("media.purged_at", "is", null)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Candidates for the sweep: photos idle past the grace period (or these keys), locked FOR UPDATE until the
 * caller's transaction ends; photos pinned by a transaction referencing them are skipped.
 */
export async function lockIdlePhotos(
  db: Db,
  opts: { graceSeconds: number; limit: number; keys?: readonly string[] },
): Promise<string[]> {
  let query = db
    .selectFrom("photos")
    .select("storage_key")
    .where("updated_at", "<=", sql<Date>`now() - make_interval(secs => ${opts.graceSeconds})`)
    .where(({ not, exists, selectFrom }) => not(exists(liveReferences(selectFrom))));
  if (opts.keys) query = query.where("storage_key", "in", opts.keys.length > 0 ? [...opts.keys] : [""]);
  const rows = await query.orderBy("updated_at").limit(opts.limit).forUpdate().skipLocked().execute();
  return rows.map((r) => r.storage_key);
}

/**
 * Deletes the locked photos no media row references. A statement of its own, so it sees every reference
 * committed up to now, including those committed after the candidates were chosen.
 */
export async function deleteUnreferencedPhotos(
  db: Db,
  keys: readonly string[],
): Promise<{ storageKey: string; thumbnailKey: string }[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .deleteFrom("photos")
    .where("storage_key", "in", [...keys])
    .where(({ not, exists, selectFrom }) => not(exists(liveReferences(selectFrom))))
    .returning(["storage_key", "thumbnail_key"])
    .execute();
  return rows.map((r) => ({ storageKey: r.storage_key, thumbnailKey: r.thumbnail_key }));
}
