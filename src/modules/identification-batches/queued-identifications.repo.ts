import { type Selectable, sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { IdentificationsTable } from "../../db/schema.ts";
import { insertMedia, type NewMedia } from "../identifications/identifications.repo.ts";

export type QueuedIdentificationRow = Selectable<IdentificationsTable>;
export type IdentificationRequest = {
  organs: string[];
  latitude: number | null;
  longitude: number | null;
  includeHealth: boolean;
};

/** The row of an identification whose photos are stored and whose providers have not been asked yet. */
export async function insertQueuedIdentification(
  db: Db,
  row: { id: string; userId: string; createdAt: Date; request: IdentificationRequest },
  media: readonly NewMedia[],
): Promise<void> {
  await db
    .insertInto("identifications")
    .values({
      id: row.id,
      user_id: row.userId,
      status: "queued",
      request: row.request,
      result: null,
      created_at: row.createdAt,
      updated_at: row.createdAt,
    })
    .execute();
  await insertMedia(db, row.id, media);
}

/** Any user's identification, deleted or not: a job decides itself what a deleted one means. */
export async function findIdentificationForJob(
  db: Db,
  id: string,
): Promise<QueuedIdentificationRow | undefined> {
  return db.selectFrom("identifications").selectAll().where("id", "=", id).executeTakeFirst();
}

/** queued (or a crashed / failed earlier run) -> processing. False when it is completed or deleted. */
export async function markIdentificationProcessing(db: Db, id: string): Promise<boolean> {
  const row = await db
    .updateTable("identifications")
    .set({ status: "processing", updated_at: sql`now()` })
    .where("id", "=", id)
    .where("status", "in", ["queued", "processing", "failed"])
    .where("deleted_at", "is", null)
    .returning("id")
    .executeTakeFirst();
  return row !== undefined;
}

export async function completeIdentification(
  db: Db,
  id: string,
  r: {
    isPlant: boolean | null;
    confidence: number | null;
    topSpeciesId: string | null;
    modelVersion: string | null;
    result: unknown;
    experimentId?: string | null;
    variant?: string | null;
  },
): Promise<boolean> {
  const row = await db
    .updateTable("identifications")
    .set({
      status: "completed",
      is_plant: r.isPlant,
      confidence: r.confidence,
      top_species_id: r.topSpeciesId,
      model_version: r.modelVersion,
      result: r.result,
      experiment_id: r.experimentId ?? null,
      variant: r.variant ?? null,
      failure: null,
      updated_at: sql`now()`,
    })
    .where("id", "=", id)
    .where("status", "<>", "completed")
    .returning("id")
    .executeTakeFirst();
  return row !== undefined;
}

/** Never overwrites a completed result (a late failure of a duplicate delivery must not undo it). */
export async function failIdentification(
  db: Db,
  id: string,
  failure: { code: string; message: string },
): Promise<boolean> {
  const row = await db
    .updateTable("identifications")
    .set({ status: "failed", failure, updated_at: sql`now()` })
    .where("id", "=", id)
    .where("status", "in", ["queued", "processing"])
    .returning("id")
    .executeTakeFirst();
  return row !== undefined;
}
