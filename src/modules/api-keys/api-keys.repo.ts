import type { Selectable } from "kysely";
import { sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { ApiKeysTable } from "../../db/schema.ts";

export type ApiKeyRow = Selectable<ApiKeysTable>;

export type NewApiKey = {
  userId: string;
  name: string;
  prefix: string;
  keyHash: string;
  scopes: string[];
  expiresAt: Date | null;
};

export async function insertApiKey(db: Db, k: NewApiKey): Promise<ApiKeyRow> {
  return db
    .insertInto("api_keys")
    .values({
      id: Bun.randomUUIDv7(),
      user_id: k.userId,
      name: k.name,
      prefix: k.prefix,
      key_hash: k.keyHash,
      scopes: k.scopes,
      expires_at: k.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listLiveApiKeys(
  db: Db,
  userId: string,
  f: { limit: number; afterId?: string },
): Promise<ApiKeyRow[]> {
  let q = db.selectFrom("api_keys").selectAll().where("user_id", "=", userId).where("revoked_at", "is", null);
  // UUIDv7: id order is creation order, and unique, so it alone is a stable cursor.
  if (f.afterId) q = q.where("id", "<", f.afterId);
  return q.orderBy("id", "desc").limit(f.limit).execute();
}

/** One of the owner's live keys; another user's key, or a revoked one, is simply not found. */
export async function findLiveApiKey(db: Db, userId: string, id: string): Promise<ApiKeyRow | undefined> {
  return db
    .selectFrom("api_keys")
    .selectAll()
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
}

export async function findApiKeyByHash(db: Db, keyHash: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom("api_keys").selectAll().where("key_hash", "=", keyHash).executeTakeFirst();
}

/** Revokes one of the owner's live keys; another user's key is simply not found. */
export async function revokeApiKey(db: Db, userId: string, id: string): Promise<ApiKeyRow | undefined> {
  return db
    .updateTable("api_keys")
    .set({ revoked_at: sql`now()`, updated_at: sql`now()` })
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .returningAll()
    .executeTakeFirst();
}

export async function revokeAllApiKeys(db: Db, userId: string): Promise<string[]> {
  const rows = await db
    .updateTable("api_keys")
    .set({ revoked_at: sql`now()`, updated_at: sql`now()` })
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .returning(["key_hash"])
    .execute();
  return rows.map((r) => r.key_hash);
}

export async function touchApiKey(db: Db, id: string): Promise<void> {
  await db.updateTable("api_keys").set({ last_used_at: sql`now()` }).where("id", "=", id).execute();
}

/** With `lock`, serialises concurrent creations for one user (on the user row) so the cap holds. */
export async function countLiveApiKeys(
  db: Db,
  userId: string,
  opts: { lock?: boolean } = {},
): Promise<number> {
  if (opts.lock) await db.selectFrom("users").select("id").where("id", "=", userId).forUpdate().execute();
  const row = await db
    .selectFrom("api_keys")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
