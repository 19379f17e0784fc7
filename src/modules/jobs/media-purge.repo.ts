import { sql } from "kysely";
import type { Db } from "../../db/connect.ts";

export type PurgeableMedia = { id: string; storageKey: string; thumbnailKey: string };

/** Media of identifications soft-deleted more than `retentionDays` ago still holding their photo reference. */
export async function findPurgeableMedia(
  db: Db,
  retentionDays: number,
  limit: number,
): Promise<PurgeableMedia[]> {
  const rows = await db
    .selectFrom("media")
    .innerJoin("identifications", "identifications.id", "media.identification_id")
    .select(["media.id", "media.storage_key", "media.thumbnail_key"])
    .where("identifications.deleted_at", "is not", null)
    .where(
      "identifications.deleted_at",
      "<",
      sql<Date>`now() - make_interval(secs => ${retentionDays * 86_400})`,
    )
    .where("media.purged_at", "is", null)
    .orderBy("identifications.deleted_at")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, storageKey: r.storage_key, thumbnailKey: r.thumbnail_key }));
}
