import { type Selectable, sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { AccountExportsTable } from "../../db/schema-account-data.ts";

export type ExportRow = Selectable<AccountExportsTable>;

export async function insertExport(db: Db, id: string, userId: string): Promise<ExportRow> {
  return db
    .insertInto("account_exports")
    .values({ id, user_id: userId })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The account's export still being built, if any: asking again answers that one. */
export async function findPendingExport(db: Db, userId: string): Promise<ExportRow | undefined> {
  return db
    .selectFrom("account_exports")
    .selectAll()
    .where("user_id", "=", userId)
    .where("status", "=", "queued")
    .orderBy("created_at", "desc")
    .executeTakeFirst();
}

export async function findExport(db: Db, userId: string, id: string): Promise<ExportRow | undefined> {
  return db
    .selectFrom("account_exports")
    .selectAll()
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .executeTakeFirst();
}

export async function markExportReady(
  db: Db,
  id: string,
  archive: { storageKey: string; byteSize: number; ttlSeconds: number },
): Promise<ExportRow | undefined> {
  return db
    .updateTable("account_exports")
    .set({
      status: "ready",
      storage_key: archive.storageKey,
      byte_size: archive.byteSize,
      completed_at: sql`now()`,
      expires_at: sql`now() + make_interval(secs => ${archive.ttlSeconds})`,
      updated_at: sql`now()`,
    })
    .where("id", "=", id)
    .where("status", "=", "queued")
    .returningAll()
    .executeTakeFirst();
}

export async function markExportFailed(db: Db, id: string, failure: string): Promise<void> {
  await db
    .updateTable("account_exports")
    .set({ status: "failed", failure, completed_at: sql`now()`, updated_at: sql`now()` })
    .where("id", "=", id)
    .where("status", "=", "queued")
    .execute();
}

export async function findExpiredExports(db: Db, limit: number) {
  return db
    .selectFrom("account_exports")
    .select(["id", "storage_key"])
    .where("status", "=", "ready")
    .where("expires_at", "<", sql<Date>`now()`)
    .limit(limit)
    .execute();
}
