import type { Db } from "../../db/connect.ts";

/** The account's live identifications, oldest first, a page after `after`. */
export async function listIdentificationsForExport(
  db: Db,
  userId: string,
  limit: number,
  after?: { createdAt: Date; id: string },
) {
  let query = db
    .selectFrom("identifications")
    .selectAll()
    .where("user_id", "=", userId)
    .where("deleted_at", "is", null);
  if (after) {
    query = query.where((eb) =>
      eb(eb.refTuple("created_at", "id"), ">", eb.tuple(after.createdAt, after.id)),
    );
  }
  return query.orderBy("created_at").orderBy("id").limit(limit).execute();
}
