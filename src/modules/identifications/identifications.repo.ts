import { type OperationNodeSource, type Selectable, sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import { insertTogether } from "../../db/insert-together.ts";
import type { IdentificationsTable, MediaTable } from "../../db/schema.ts";
import { acquirePhotos } from "../photos/index.ts";

export type IdentificationRow = Selectable<IdentificationsTable>;
export type MediaRow = Selectable<MediaTable>;

export type NewIdentification = {
  id: string;
  userId: string;
  createdAt: Date;
  isPlant: boolean | null;
  confidence: number | null;
  topSpeciesId: string | null;
  modelVersion: string | null;
  request: Record<string, unknown>;
  result: unknown;
  /** The experiment variant the owner was assigned to (models module). */
  experimentId?: string | null;
  variant?: string | null;
};

export type NewMedia = {
  id: string;
  position: number;
  storageKey: string;
  thumbnailKey: string;
  byteSize: number;
  width: number;
  height: number;
  sha256: string;
};

/** Catalogue ids by lower-cased scientific name, for the names given. */
export async function findSpeciesIdsByName(db: Db, names: readonly string[]): Promise<Map<string, string>> {
  const keys = [...new Set(names.map((n) => n.trim().replace(/\s+/g, " ").toLowerCase()))];
  if (keys.length === 0) return new Map();
  const rows = await db
    .selectFrom("species")
    .select(["id", sql<string>`lower(scientific_name)`.as("name")])
    .where(sql<string>`lower(scientific_name)`, "in", keys)
    .execute();
  return new Map(rows.map((r) => [r.name, r.id]));
}

/**
 * The identification and its media rows, with `alongside` (other rows of the same write: model calls, audit) in
 * one statement (db/insert-together.ts), after its photos are checked and locked (acquirePhotos: each media row
 * takes a reference on its stored photo). Call it inside the identification's transaction.
 */
export async function insertIdentification(
  db: Db,
  row: NewIdentification,
  media: NewMedia[],
  alongside: readonly (OperationNodeSource | undefined)[] = [],
): Promise<void> {
  await acquireMediaPhotos(db, media);
  await insertTogether(db, [identificationInsert(db, row), mediaInsert(db, row.id, media), ...alongside]);
}

function identificationInsert(db: Db, row: NewIdentification) {
  return db.insertInto("identifications").values({
    id: row.id,
    user_id: row.userId,
    status: "completed",
    is_plant: row.isPlant,
    confidence: row.confidence,
    top_species_id: row.topSpeciesId,
    model_version: row.modelVersion,
    experiment_id: row.experimentId ?? null,
    variant: row.variant ?? null,
    request: row.request,
    result: row.result,
    created_at: row.createdAt,
    updated_at: row.createdAt,
  });
}

/**
 * The stored photos of one identification (always JPEG: uploads are re-encoded before storing), each taking a
 * reference on its content-addressed photo (storePhoto first); call it inside the identification's transaction.
 */
export async function insertMedia(
  db: Db,
  identificationId: string,
  media: readonly NewMedia[],
): Promise<void> {
  if (media.length === 0) return;
  await acquireMediaPhotos(db, media);
  await mediaInsert(db, identificationId, media)?.execute();
}

/** Checks and locks the stored photos the media rows will reference (photos.repo.ts acquirePhotos). */
function acquireMediaPhotos(db: Db, media: readonly NewMedia[]): Promise<void> {
  return acquirePhotos(
    db,
    media.map((m) => m.storageKey),
  );
}

function mediaInsert(db: Db, identificationId: string, media: readonly NewMedia[]) {
  if (media.length === 0) return undefined;
  return db.insertInto("media").values(
    media.map((m) => ({
      id: m.id,
      identification_id: identificationId,
      position: m.position,
      storage_key: m.storageKey,
      thumbnail_key: m.thumbnailKey,
      content_type: "image/jpeg",
      byte_size: m.byteSize,
      width: m.width,
      height: m.height,
      sha256: m.sha256,
    })),
  );
}

export async function findLiveIdentification(
  db: Db,
  userId: string,
  id: string,
): Promise<IdentificationRow | undefined> {
  return db
    .selectFrom("identifications")
    .selectAll()
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
}

export type IdentificationFilter = {
  userId: string;
  limit: number;
  after?: { createdAt: string; id: string };
  from?: string;
  to?: string;
  minConfidence?: number;
  speciesId?: string;
};

/** Newest first; the id (UUIDv7) breaks ties so pages never skip or repeat a row. */
export async function listLiveIdentifications(db: Db, f: IdentificationFilter): Promise<IdentificationRow[]> {
  let query = db
    .selectFrom("identifications")
    .selectAll()
    .where("user_id", "=", f.userId)
    .where("deleted_at", "is", null);
  if (f.from) query = query.where("created_at", ">=", new Date(f.from));
  if (f.to) query = query.where("created_at", "<", new Date(f.to));
  if (f.minConfidence !== undefined) query = query.where("confidence", ">=", f.minConfidence);
  if (f.speciesId) query = query.where("top_species_id", "=", f.speciesId);
  if (f.after) {
    const { createdAt, id } = f.after;
    query = query.where((eb) => eb(eb.refTuple("created_at", "id"), "<", eb.tuple(new Date(createdAt), id)));
  }
  return query.orderBy("created_at", "desc").orderBy("id", "desc").limit(f.limit).execute();
}

export async function listMediaOf(db: Db, identificationIds: readonly string[]): Promise<MediaRow[]> {
  if (identificationIds.length === 0) return [];
  return db
    .selectFrom("media")
    .selectAll()
    .where("identification_id", "in", identificationIds)
    .orderBy("identification_id")
    .orderBy("position")
    .execute();
}

/** Marks the identification and its media deleted; the ids of its media, or undefined if none was live. */
export async function softDeleteIdentification(
  db: Db,
  userId: string,
  id: string,
): Promise<string[] | undefined> {
  const deleted = await db
    .updateTable("identifications")
    .set({ deleted_at: sql`now()`, updated_at: sql`now()` })
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .where("deleted_at", "is", null)
    .returning("id")
    .executeTakeFirst();
  if (!deleted) return undefined;
  const media = await db
    .updateTable("media")
    .set({ deleted_at: sql`now()`, updated_at: sql`now()` })
    .where("identification_id", "=", id)
    .where("deleted_at", "is", null)
    .returning("id")
    .execute();
  return media.map((m) => m.id);
}

/** The stored object of a live identification's image (or its thumbnail), by identification and media id. */
export async function findLiveMediaObject(
  db: Db,
  identificationId: string,
  mediaId: string,
  thumbnail: boolean,
): Promise<string | undefined> {
  const row = await db
    .selectFrom("media")
    .innerJoin("identifications", "identifications.id", "media.identification_id")
    .select(["media.storage_key", "media.thumbnail_key"])
    .where("media.id", "=", mediaId)
    .where("media.identification_id", "=", identificationId)
    // A deleted account's photos stop being served at once (DELETE /v1/me), long before they are erased.
    .innerJoin("users", "users.id", "identifications.user_id")
    .where("users.deleted_at", "is", null)
    .where("media.deleted_at", "is", null)
    .where("identifications.deleted_at", "is", null)
    .executeTakeFirst();
  return row && (thumbnail ? row.thumbnail_key : row.storage_key);
}
