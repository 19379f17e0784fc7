import { sql } from "kysely";
import type { Db } from "../../db/connect.ts";

/** Stamps the account for erasure `graceSeconds` from now (DELETE /v1/me, inside its transaction). */
export async function scheduleErasure(db: Db, userId: string, graceSeconds: number): Promise<void> {
  await db
    .updateTable("users")
    .set({ erase_after: sql`now() + make_interval(secs => ${graceSeconds})` })
    .where("id", "=", userId)
    .execute();
}

/** Deleted accounts whose grace period is over and whose data is not erased yet, oldest first. */
export async function findAccountsDueForErasure(db: Db, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom("users")
    .select("id")
    .where("deleted_at", "is not", null)
    .where("erase_after", "<=", sql<Date>`now()`)
    .where("erased_at", "is", null)
    .orderBy("erase_after")
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export type StoredPhoto = { id: string; storageKey: string; thumbnailKey: string };

/** A page of the account's photos whose stored objects are not removed yet (deleted identifications too). */
export async function findUnpurgedPhotosOf(db: Db, userId: string, limit: number): Promise<StoredPhoto[]> {
  const rows = await db
    .selectFrom("media")
    .innerJoin("identifications", "identifications.id", "media.identification_id")
    .select(["media.id", "media.storage_key", "media.thumbnail_key"])
    .where("identifications.user_id", "=", userId)
    .where("media.purged_at", "is", null)
    .orderBy("media.id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, storageKey: r.storage_key, thumbnailKey: r.thumbnail_key }));
}

/** Export archives of the account still in storage. */
export async function findStoredExportsOf(db: Db, userId: string, limit: number) {
  return db
    .selectFrom("account_exports")
    .select(["id", "storage_key"])
    .where("user_id", "=", userId)
    .where("storage_key", "is not", null)
    .limit(limit)
    .execute();
}

/**
 * Removes personal data from the audit rows about or by the account (its user id, its API keys, IP addresses,
 * request ids and the recorded field values); what happened and when stays, for the trail's integrity.
 */
export async function anonymiseAuditOf(db: Db, userId: string): Promise<number> {
  const result = await sql`
    update audit_log
       set actor_user_id = null,
           actor_api_key_id = null,
           entity_id = case when entity_type = 'user' and entity_id = ${userId} then null else entity_id end,
           ip = null,
           request_id = null,
           changes = '{"anonymised":true}'::jsonb
     where id in (
       select id from audit_log
        where actor_user_id = ${userId}
           or (entity_type = 'user' and entity_id = ${userId})
           or actor_api_key_id in (select id from api_keys where user_id = ${userId})
        limit 1000)`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Deletes up to `limit` rows of one of the account's tables, children before parents; the number deleted.
 * Each call is one bounded statement, so a large account is erased in many short steps that a rerun resumes.
 */
export async function deleteAccountRows(
  db: Db,
  step: ErasureStep,
  userId: string,
  limit: number,
): Promise<number> {
  const query = ERASURE_STEPS[step](userId, limit);
  const result = await query.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

const ownIdentifications = (userId: string) => sql`select id from identifications where user_id = ${userId}`;
const ownBatches = (userId: string) => sql`select id from identification_batches where user_id = ${userId}`;

const ERASURE_STEPS = {
  batchItems: (u: string, n: number) =>
    sql`delete from identification_batch_items where ctid in (select ctid from identification_batch_items where batch_id in (${ownBatches(u)}) limit ${n})`,
  batches: (u: string, n: number) =>
    sql`delete from identification_batches where id in (select id from identification_batches where user_id = ${u} limit ${n})`,
  media: (u: string, n: number) =>
    sql`delete from media where id in (select id from media where identification_id in (${ownIdentifications(u)}) and purged_at is not null limit ${n})`,
  // The models module's per-call records and the owner's feedback point at the identifications (issue 15).
  modelCalls: (u: string, n: number) =>
    sql`delete from identification_model_calls where ctid in (select ctid from identification_model_calls where identification_id in (${ownIdentifications(u)}) limit ${n})`,
  feedback: (u: string, n: number) =>
    sql`delete from identification_feedback where identification_id in (select identification_id from identification_feedback where identification_id in (${ownIdentifications(u)}) or user_id = ${u} limit ${n})`,
  identifications: (u: string, n: number) =>
    sql`delete from identifications where id in (select i.id from identifications i where i.user_id = ${u} and not exists (select 1 from media m where m.identification_id = i.id) limit ${n})`,
  notifications: (u: string, n: number) =>
    sql`delete from notifications where id in (select id from notifications where user_id = ${u} limit ${n})`,
  idempotencyKeys: (u: string, n: number) =>
    sql`delete from idempotency_keys where ctid in (select ctid from idempotency_keys where user_id = ${u} limit ${n})`,
  emailTokens: (u: string, n: number) =>
    sql`delete from email_tokens where id in (select id from email_tokens where user_id = ${u} limit ${n})`,
  refreshTokens: (u: string, n: number) =>
    sql`delete from refresh_tokens where id in (select id from refresh_tokens where user_id = ${u} limit ${n})`,
  apiKeys: (u: string, n: number) =>
    sql`delete from api_keys where id in (select id from api_keys where user_id = ${u} limit ${n})`,
  exports: (u: string, n: number) =>
    sql`delete from account_exports where id in (select id from account_exports where user_id = ${u} and storage_key is null limit ${n})`,
} as const;

export type ErasureStep = keyof typeof ERASURE_STEPS;
/** In this order: a row goes only after the rows that point at it. */
export const ERASURE_ORDER = Object.keys(ERASURE_STEPS) as ErasureStep[];

/** Last step: the account row stays as a tombstone (ids elsewhere point at it) without any personal data. */
export async function scrubAccount(db: Db, userId: string): Promise<boolean> {
  const result = await db
    .updateTable("users")
    .set({
      email: sql`'erased-' || id || '@erased.invalid'`,
      password_hash: "",
      display_name: "",
      preferences: {},
      email_verified_at: null,
      erased_at: sql`now()`,
      updated_at: sql`now()`,
    })
    .where("id", "=", userId)
    .where("erased_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** After their objects are removed: the rows stop naming them. */
export async function forgetExportObjects(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable("account_exports")
    .set({ storage_key: null, status: "expired", updated_at: sql`now()` })
    .where("id", "in", ids)
    .execute();
}
