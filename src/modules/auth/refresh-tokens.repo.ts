import type { Selectable } from "kysely";
import { sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { RefreshTokensTable } from "../../db/schema.ts";

export type RefreshTokenRow = Selectable<RefreshTokensTable>;

export async function insertRefreshToken(
  db: Db,
  t: { familyId: string; userId: string; tokenHash: string; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto("refresh_tokens")
    .values({
      id: Bun.randomUUIDv7(),
      family_id: t.familyId,
      user_id: t.userId,
      token_hash: t.tokenHash,
      expires_at: t.expiresAt,
    })
    .execute();
}

/** Row-locked, so two concurrent uses of one token cannot both rotate it. */
export async function lockRefreshToken(db: Db, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  return db
    .selectFrom("refresh_tokens")
    .selectAll()
    .where("token_hash", "=", tokenHash)
    .forUpdate()
    .executeTakeFirst();
}

export async function findRefreshToken(db: Db, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  return db.selectFrom("refresh_tokens").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
}

export async function markRefreshTokenUsed(db: Db, id: string): Promise<void> {
  await db
    .updateTable("refresh_tokens")
    .set({ used_at: sql`now()`, updated_at: sql`now()` })
    .where("id", "=", id)
    .execute();
}

export async function revokeFamily(db: Db, familyId: string): Promise<number> {
  const result = await db
    .updateTable("refresh_tokens")
    .set({ revoked_at: sql`now()`, updated_at: sql`now()` })
    .where("family_id", "=", familyId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Every live family of a user (account deletion); returns the family ids. */
export async function revokeAllFamilies(db: Db, userId: string): Promise<string[]> {
  const rows = await db
    .updateTable("refresh_tokens")
    .set({ revoked_at: sql`now()`, updated_at: sql`now()` })
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .returning("family_id")
    .execute();
  return [...new Set(rows.map((r) => r.family_id))];
}
