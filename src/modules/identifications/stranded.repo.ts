import { sql } from "kysely";
import type { Db } from "../../db/connect.ts";

export type StrandedWork = { id: string; userId: string; role: "user" | "premium" | "admin" };

/** Single identifications still `queued` long after they were accepted (batch items belong to their batch job). */
export async function findStrandedIdentifications(
  db: Db,
  olderThanMs: number,
  limit: number,
): Promise<StrandedWork[]> {
  return db
    .selectFrom("identifications as i")
    .innerJoin("users as u", "u.id", "i.user_id")
    .select(["i.id as id", "i.user_id as userId", "u.role as role"])
    .where("i.status", "=", "queued")
    .where("i.deleted_at", "is", null)
    .where("i.created_at", "<", sql<Date>`now() - make_interval(secs => ${olderThanMs / 1000})`)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("identification_batch_items as b")
            .select("b.batch_id")
            .whereRef("b.identification_id", "=", "i.id"),
        ),
      ),
    )
    .orderBy("i.created_at")
    .limit(limit)
    .execute();
}

/** Batches still `queued` long after they were accepted. */
export async function findStrandedBatches(
  db: Db,
  olderThanMs: number,
  limit: number,
): Promise<StrandedWork[]> {
  return db
    .selectFrom("identification_batches as b")
    .innerJoin("users as u", "u.id", "b.user_id")
    .select(["b.id as id", "b.user_id as userId", "u.role as role"])
    .where("b.status", "=", "queued")
    .where("b.deleted_at", "is", null)
    .where("b.created_at", "<", sql<Date>`now() - make_interval(secs => ${olderThanMs / 1000})`)
    .orderBy("b.created_at")
    .limit(limit)
    .execute();
}
