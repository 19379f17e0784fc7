import { sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { EmailTokensTable } from "../../db/schema.ts";

export type EmailTokenPurpose = EmailTokensTable["purpose"];

export async function insertEmailToken(
  db: Db,
  t: { userId: string; purpose: EmailTokenPurpose; tokenHash: string; expiresAt: Date },
): Promise<string> {
  const id = Bun.randomUUIDv7();
  await db
    .insertInto("email_tokens")
    .values({ id, user_id: t.userId, purpose: t.purpose, token_hash: t.tokenHash, expires_at: t.expiresAt })
    .execute();
  return id;
}

/**
 * Marks the token used and returns its user, in one statement: of two concurrent uses only one gets the row,
 * and an expired or used token is never returned.
 */
export async function consumeEmailToken(
  db: Db,
  purpose: EmailTokenPurpose,
  tokenHash: string,
  now: Date,
): Promise<string | undefined> {
  const row = await db
    .updateTable("email_tokens")
    .set({ used_at: now })
    .where("token_hash", "=", tokenHash)
    .where("purpose", "=", purpose)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .returning("user_id")
    .executeTakeFirst();
  return row?.user_id;
}

/** Older links of the same purpose stop working when a new one is sent or one is used. */
export async function retireEmailTokens(db: Db, userId: string, purpose: EmailTokenPurpose, now: Date) {
  await db
    .updateTable("email_tokens")
    .set({ used_at: now })
    .where("user_id", "=", userId)
    .where("purpose", "=", purpose)
    .where("used_at", "is", null)
    .execute();
}

export async function markEmailVerified(db: Db, userId: string): Promise<void> {
  await db
    .updateTable("users")
    .set({ email_verified_at: sql`coalesce(email_verified_at, now())`, updated_at: sql`now()` })
    .where("id", "=", userId)
    .execute();
}

export async function setPasswordHash(db: Db, userId: string, passwordHash: string): Promise<void> {
  await db
    .updateTable("users")
    .set({ password_hash: passwordHash, updated_at: sql`now()` })
    .where("id", "=", userId)
    .execute();
}

/**
 * Whether the account's address is confirmed and, only when it is not, how many identifications it has made
 * (deleted ones included: deleting must not refill the allowance). One round trip; undefined: no such user.
 */
export async function findEmailVerification(
  db: Db,
  userId: string,
): Promise<{ verified: boolean; identificationsEver: number } | undefined> {
  const row = await db
    .selectFrom("users")
    .select((eb) => [
      eb("email_verified_at", "is not", null).as("verified"),
      sql<string | null>`case when users.email_verified_at is null then
        (select count(*) from identifications where identifications.user_id = users.id) end`.as("used"),
    ])
    .where("id", "=", userId)
    .executeTakeFirst();
  return row && { verified: Boolean(row.verified), identificationsEver: Number(row.used ?? 0) };
}
