import type { Selectable } from "kysely";
import { sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { UsersTable } from "../../db/schema.ts";
import type { Role } from "../../http/scopes.ts";

export type UserRow = Selectable<UsersTable>;

export async function findLiveUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db
    .selectFrom("users")
    .selectAll()
    .where(sql<string>`lower(email)`, "=", email.toLowerCase())
    .where("deleted_at", "is", null)
    .executeTakeFirst();
}

export async function findLiveUserById(db: Db, id: string): Promise<UserRow | undefined> {
  return db
    .selectFrom("users")
    .selectAll()
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
}

/** Locks the row for a read-modify-write inside a transaction. */
export async function lockLiveUser(db: Db, id: string): Promise<UserRow | undefined> {
  return db
    .selectFrom("users")
    .selectAll()
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .forUpdate()
    .executeTakeFirst();
}

export type UserAuthState = { role: Role; deleted: boolean };

export async function findUserAuthState(db: Db, id: string): Promise<UserAuthState | undefined> {
  const row = await db
    .selectFrom("users")
    .select(["role", "deleted_at"])
    .where("id", "=", id)
    .executeTakeFirst();
  return row && { role: row.role, deleted: row.deleted_at !== null };
}

export type NewUser = { email: string; passwordHash: string; displayName: string };

/** Undefined when a live account already has the address (the partial unique index decides, race-free). */
export async function insertUser(db: Db, u: NewUser): Promise<UserRow | undefined> {
  return db
    .insertInto("users")
    .values({
      id: Bun.randomUUIDv7(),
      email: u.email,
      password_hash: u.passwordHash,
      display_name: u.displayName,
    })
    .onConflict((oc) => oc.expression(sql`lower(email)`).where("deleted_at", "is", null).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function updateUser(
  db: Db,
  id: string,
  patch: { displayName?: string; preferences?: Record<string, unknown>; role?: Role },
): Promise<UserRow | undefined> {
  return db
    .updateTable("users")
    .set({
      ...(patch.displayName !== undefined && { display_name: patch.displayName }),
      ...(patch.preferences !== undefined && { preferences: patch.preferences }),
      ...(patch.role !== undefined && { role: patch.role }),
      updated_at: sql`now()`,
    })
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .returningAll()
    .executeTakeFirst();
}

export async function softDeleteUser(db: Db, id: string): Promise<boolean> {
  const result = await db
    .updateTable("users")
    .set({ deleted_at: sql`now()`, updated_at: sql`now()` })
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
