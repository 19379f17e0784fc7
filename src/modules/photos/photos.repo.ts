import { type Selectable, sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { PhotosTable } from "../../db/schema-photos.ts";

export type PhotoRow = Selectable<PhotosTable>;

/**
 * The photo already made from these upload bytes, touched so the purge's grace period restarts (a photo about to
 * be referenced is never swept under a request). One round trip.
 */
export async function touchPhotoOfUpload(db: Db, uploadSha256: string): Promise<PhotoRow | undefined> {
  return db
    .updateTable("photos")
    .from("photo_sources")
    .set({ updated_at: sql`now()` })
    .whereRef("photos.storage_key", "=", "photo_sources.storage_key")
    .where("photo_sources.upload_sha256", "=", uploadSha256)
    .returning([
      "photos.storage_key",
      "photos.thumbnail_key",
      "photos.content_sha256",
      "photos.byte_size",
      "photos.width",
      "photos.height",
      "photos.ref_count",
      "photos.created_at",
      "photos.updated_at",
    ])
    .executeTakeFirst();
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
    .values({ ...photo, ref_count: 0 })
    .onConflict((oc) => oc.column("storage_key").doUpdateSet({ updated_at: sql`now()` }))
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

/** A photo's row was swept between storing it and referencing it (only possible with a zero grace period). */
export class PhotoGoneError extends Error {
  override readonly name = "PhotoGoneError";
}

/**
 * Takes one reference per key (a photo shown twice is referenced twice), in the caller's transaction with the
 * media rows. Throws PhotoGoneError when a photo is no longer recorded: store it again (storePhoto) and retry.
 */
export async function acquirePhotos(db: Db, storageKeys: readonly string[]): Promise<void> {
  const counts = new Map<string, number>();
  for (const key of storageKeys) counts.set(key, (counts.get(key) ?? 0) + 1);
  if (counts.size === 0) return;
  // One statement per photo in one order (sorted keys): two transactions sharing photos never deadlock.
  for (const key of [...counts.keys()].sort()) {
    const row = await db
      .updateTable("photos")
      .set({ ref_count: sql`ref_count + ${counts.get(key)!}`, updated_at: sql`now()` })
      .where("storage_key", "=", key)
      .returning("storage_key")
      .executeTakeFirst();
    if (!row) throw new PhotoGoneError(`photo ${key} is no longer stored`);
  }
}

/**
 * Releases the references of these media rows (marks them purged: their objects are no longer theirs to keep).
 * Idempotent: a row already released is skipped. The storage keys whose photo is now unreferenced.
 */
export async function releaseMedia(db: Db, mediaIds: readonly string[]): Promise<string[]> {
  if (mediaIds.length === 0) return [];
  const rows = await sql<{ storage_key: string }>`
    with released as (
      update media set purged_at = now(), updated_at = now()
      where id = any(${sql.val([...mediaIds])}::uuid[]) and purged_at is null
      returning storage_key
    ), counts as (
      select storage_key, count(*)::int as n from released group by storage_key
    )
    update photos set ref_count = greatest(photos.ref_count - counts.n, 0), updated_at = now()
    from counts where photos.storage_key = counts.storage_key
    returning photos.storage_key, photos.ref_count
  `.execute(db);
  return (rows.rows as { storage_key: string; ref_count: number }[])
    .filter((r) => r.ref_count === 0)
    .map((r) => r.storage_key);
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
 * Unreferenced photos past their grace period (or these keys, with grace 0), locked until the caller's
 * transaction ends: a request reusing one of them waits for the sweep and then stores the photo anew.
 */
export async function lockUnreferencedPhotos(
  db: Db,
  opts: { graceSeconds: number; limit: number; keys?: readonly string[] },
): Promise<{ storageKey: string; thumbnailKey: string }[]> {
  let query = db
    .selectFrom("photos")
    .select(["storage_key", "thumbnail_key"])
    .where("ref_count", "=", 0)
    .where("updated_at", "<=", sql<Date>`now() - make_interval(secs => ${opts.graceSeconds})`);
  if (opts.keys) query = query.where("storage_key", "in", opts.keys.length > 0 ? [...opts.keys] : [""]);
  const rows = await query.orderBy("updated_at").limit(opts.limit).forUpdate().skipLocked().execute();
  return rows.map((r) => ({ storageKey: r.storage_key, thumbnailKey: r.thumbnail_key }));
}

export async function deletePhotoRows(db: Db, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await db
    .deleteFrom("photos")
    .where("storage_key", "in", [...keys])
    .where("ref_count", "=", 0)
    .execute();
}
