import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("users").addColumn("email_verified_at", "timestamptz").execute();
  // Accounts from before verification existed keep working as they did (shipped apps could not verify them).
  await sql`update users set email_verified_at = created_at where email_verified_at is null`.execute(db);

  // Single-use secrets sent by e-mail: only their SHA-256 is stored, so a database reader cannot use them.
  await db.schema
    .createTable("email_tokens")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id"))
    .addColumn("purpose", "text", (c) =>
      c.notNull().check(sql`purpose in ('verify_email', 'reset_password')`),
    )
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("used_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index email_tokens_user_live_idx on email_tokens (user_id, purpose) where used_at is null`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("email_tokens").execute();
  await db.schema.alterTable("users").dropColumn("email_verified_at").execute();
}
