import { sql } from "kysely";
import type { Db } from "../../db/connect.ts";

export type StoredResponse = {
  requestHash: string;
  status: number;
  body: unknown;
  resourceId: string | null;
};

export async function findLiveIdempotencyKey(
  db: Db,
  userId: string,
  key: string,
): Promise<StoredResponse | undefined> {
  const row = await db
    .selectFrom("idempotency_keys")
    .select(["request_hash", "response_status", "response_body", "resource_id"])
    .where("user_id", "=", userId)
    .where("key", "=", key)
    .where("expires_at", ">", sql<Date>`now()`)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    requestHash: row.request_hash,
    status: row.response_status,
    body: row.response_body,
    resourceId: row.resource_id,
  };
}

/** Stores the response under the key; false when a live entry already holds the key. An expired one is replaced. */
export async function saveIdempotencyKey(
  db: Db,
  entry: { userId: string; key: string; operation: string; ttlSeconds: number } & StoredResponse,
): Promise<boolean> {
  const values = {
    user_id: entry.userId,
    key: entry.key,
    operation: entry.operation,
    request_hash: entry.requestHash,
    response_status: entry.status,
    // An object, not JSON text: the driver serialises jsonb parameters itself (text would be stored as a JSON string).
    response_body: entry.body,
    resource_id: entry.resourceId,
    expires_at: sql<Date>`now() + make_interval(secs => ${entry.ttlSeconds})`,
  };
  const saved = await db
    .insertInto("idempotency_keys")
    .values(values as never)
    .onConflict((oc) =>
      oc
        .columns(["user_id", "key"])
        .doUpdateSet({ ...values, created_at: sql`now()` } as never)
        .where("idempotency_keys.expires_at", "<=", sql<Date>`now()`),
    )
    .returning("key")
    .executeTakeFirst();
  return saved !== undefined;
}

/** Expired entries of one user; called on the write path so the table does not grow without bound. */
export async function deleteExpiredIdempotencyKeys(db: Db, userId: string): Promise<void> {
  await db
    .deleteFrom("idempotency_keys")
    .where("user_id", "=", userId)
    .where("expires_at", "<=", sql<Date>`now()`)
    .execute();
}

/** Forgets a stored answer whose request was undone (identifications.discard.ts): a retry starts afresh. */
export async function deleteIdempotencyKey(db: Db, userId: string, key: string): Promise<void> {
  await db.deleteFrom("idempotency_keys").where("user_id", "=", userId).where("key", "=", key).execute();
}
