import { type Selectable, sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { UploadsTable } from "../../db/schema-uploads.ts";

export type UploadRow = Selectable<UploadsTable>;

export async function insertUpload(
  db: Db,
  row: Pick<UploadRow, "id" | "user_id" | "storage_key" | "content_type" | "content_length" | "sha256"> & {
    expires_at: Date;
  },
): Promise<void> {
  await db.insertInto("uploads").values(row).execute();
}

/** Unclaimed uploads the user holds (the per-user cap). */
export async function countUnclaimedUploads(db: Db, userId: string): Promise<number> {
  const row = await db
    .selectFrom("uploads")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("user_id", "=", userId)
    .where("claimed_at", "is", null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The user's upload, locked until the caller's transaction ends (another user's: undefined, as a missing one). */
export async function lockUploadOfUser(
  db: Db,
  userId: string,
  id: string,
): Promise<Pick<UploadRow, "id" | "storage_key" | "claimed_at"> | undefined> {
  return db
    .selectFrom("uploads")
    .select(["id", "storage_key", "claimed_at"])
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .forUpdate()
    .executeTakeFirst();
}

export async function findUpload(db: Db, id: string): Promise<UploadRow | undefined> {
  return db.selectFrom("uploads").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * Takes the claim on the user's unclaimed uploads among `ids` (one statement: two requests naming the same upload
 * cannot both get it; the sweep skips claimed uploads). Returns the rows claimed, possibly fewer than asked.
 */
export async function claimUploadRows(db: Db, userId: string, ids: readonly string[]): Promise<UploadRow[]> {
  return db
    .updateTable("uploads")
    .set({ claimed_at: sql`now()` })
    .where("id", "in", [...ids])
    .where("user_id", "=", userId)
    .where("claimed_at", "is", null)
    .returningAll()
    .execute();
}

/** Gives the claim back (the identification failed for a reason that is not the upload's). */
export async function releaseUploadRows(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable("uploads")
    .set({ claimed_at: null })
    .where("id", "in", [...ids])
    .execute();
}

export async function deleteUploadRows(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .deleteFrom("uploads")
    .where("id", "in", [...ids])
    .execute();
}

/**
 * Uploads created before the cut-off: unclaimed ones nobody used, and claimed ones whose clean-up failed (a claim
 * takes seconds, never hours). Locked until the caller's transaction ends; a claim in progress is not waited for.
 */
export async function lockUploadsCreatedBefore(
  db: Db,
  maxAgeSeconds: number,
  limit: number,
): Promise<Pick<UploadRow, "id" | "storage_key">[]> {
  return db
    .selectFrom("uploads")
    .select(["id", "storage_key"])
    .where("created_at", "<", sql<Date>`now() - make_interval(secs => ${maxAgeSeconds})`)
    .orderBy("created_at")
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** A page of the user's uploads (account erasure). */
export async function listUploadsOfUser(
  db: Db,
  userId: string,
  limit: number,
): Promise<Pick<UploadRow, "id" | "storage_key">[]> {
  return db
    .selectFrom("uploads")
    .select(["id", "storage_key"])
    .where("user_id", "=", userId)
    .orderBy("created_at")
    .limit(limit)
    .execute();
}
