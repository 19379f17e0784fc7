import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  // DELETE /v1/me sets erase_after (now + grace); the account.erase job erases the data and sets erased_at.
  await db.schema
    .alterTable("users")
    .addColumn("erase_after", "timestamptz")
    .addColumn("erased_at", "timestamptz")
    .execute();
  await sql`create index users_erasure_due_idx on users (erase_after) where erase_after is not null and erased_at is null`.execute(
    db,
  );

  // POST /v1/me/export: one row per requested archive; the archive lives in storage under storage_key.
  await db.schema
    .createTable("account_exports")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id"))
    .addColumn("status", "text", (c) => c.notNull().defaultTo("queued"))
    .addColumn("storage_key", "text")
    .addColumn("byte_size", "bigint")
    .addColumn("failure", "text")
    .addColumn("completed_at", "timestamptz")
    .addColumn("expires_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex("account_exports_user_idx")
    .on("account_exports")
    .columns(["user_id", "created_at"])
    .execute();
  await sql`create index account_exports_expiry_idx on account_exports (expires_at) where status = 'ready'`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("account_exports").execute();
  await db.schema.dropIndex("users_erasure_due_idx").execute();
  await db.schema.alterTable("users").dropColumn("erased_at").dropColumn("erase_after").execute();
}
