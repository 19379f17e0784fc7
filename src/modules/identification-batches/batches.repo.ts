import { type Selectable, sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { IdentificationBatchesTable } from "../../db/schema-background.ts";

export type BatchRow = Selectable<IdentificationBatchesTable>;
export type BatchItemRow = {
  position: number;
  identificationId: string;
  status: string;
  failure: { code: string; message: string } | null;
  deleted: boolean;
};

export async function insertBatch(
  db: Db,
  b: { id: string; userId: string; createdAt: Date; identificationIds: readonly string[] },
): Promise<void> {
  await db
    .insertInto("identification_batches")
    .values({
      id: b.id,
      user_id: b.userId,
      status: "queued",
      total: b.identificationIds.length,
      created_at: b.createdAt,
      updated_at: b.createdAt,
    })
    .execute();
  await db
    .insertInto("identification_batch_items")
    .values(
      b.identificationIds.map((identificationId, position) => ({
        batch_id: b.id,
        position,
        identification_id: identificationId,
      })),
    )
    .execute();
}

/** The owner's live batch (another user's answers undefined, like a missing one). */
export async function findBatch(db: Db, userId: string, id: string): Promise<BatchRow | undefined> {
  return db
    .selectFrom("identification_batches")
    .selectAll()
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
}

export async function findBatchForJob(db: Db, id: string): Promise<BatchRow | undefined> {
  return db.selectFrom("identification_batches").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function listBatchItems(db: Db, batchId: string): Promise<BatchItemRow[]> {
  const rows = await db
    .selectFrom("identification_batch_items as item")
    .innerJoin("identifications as i", "i.id", "item.identification_id")
    .select(["item.position", "item.identification_id", "i.status", "i.failure", "i.deleted_at"])
    .where("item.batch_id", "=", batchId)
    .orderBy("item.position")
    .execute();
  return rows.map((r) => ({
    position: r.position,
    identificationId: r.identification_id,
    status: r.status,
    failure: r.failure,
    deleted: r.deleted_at !== null,
  }));
}

export async function setBatchStatus(db: Db, id: string, status: BatchRow["status"]): Promise<void> {
  const done = status === "completed" || status === "failed";
  await db
    .updateTable("identification_batches")
    .set({
      status,
      updated_at: sql`now()`,
      ...(done ? { completed_at: sql`coalesce(completed_at, now())` } : {}),
    })
    .where("id", "=", id)
    .execute();
}

/** A batch whose job could not be queued: kept for the audit trail, gone from the owner's view. */
export async function softDeleteBatch(db: Db, id: string): Promise<void> {
  await db
    .updateTable("identification_batches")
    .set({ status: "failed", deleted_at: sql`now()`, updated_at: sql`now()` })
    .where("id", "=", id)
    .execute();
}
