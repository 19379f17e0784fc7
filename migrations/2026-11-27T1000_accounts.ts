import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("refresh_tokens")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    // One family per sign-in; every rotation adds a row to it. Reuse of a used row revokes the whole family.
    .addColumn("family_id", "uuid", (c) => c.notNull())
    .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id"))
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("used_at", "timestamptz")
    .addColumn("revoked_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("refresh_tokens_family_idx").on("refresh_tokens").column("family_id").execute();
  await sql`create index refresh_tokens_user_live_idx on refresh_tokens (user_id) where revoked_at is null`.execute(
    db,
  );

  await db.schema
    .createTable("api_keys")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id"))
    .addColumn("name", "text", (c) => c.notNull())
    // The first characters of the key, shown in listings so people can tell their keys apart.
    .addColumn("prefix", "text", (c) => c.notNull())
    .addColumn("key_hash", "text", (c) => c.notNull().unique())
    .addColumn("scopes", sql`text[]`, (c) => c.notNull())
    .addColumn("expires_at", "timestamptz")
    .addColumn("last_used_at", "timestamptz")
    .addColumn("revoked_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // Ids are UUIDv7 (time-ordered, unique): lists sort and page on the id alone, never on a timestamp.
  await sql`create index api_keys_user_live_idx on api_keys (user_id, id desc) where revoked_at is null`.execute(
    db,
  );

  await db.schema
    .createTable("audit_log")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("actor_type", "text", (c) =>
      c.notNull().check(sql`actor_type in ('user', 'api_key', 'system', 'anonymous')`),
    )
    .addColumn("actor_user_id", "uuid")
    .addColumn("actor_api_key_id", "uuid")
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("entity_type", "text", (c) => c.notNull())
    .addColumn("entity_id", "text")
    .addColumn("ip", "text")
    .addColumn("request_id", "text")
    .addColumn("changes", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // Newest first by the UUIDv7 id (time-ordered, unique, so a stable cursor): one index per filter offered.
  await sql`create index audit_log_time_idx on audit_log (created_at)`.execute(db);
  await sql`create index audit_log_actor_idx on audit_log (actor_user_id, id desc)`.execute(db);
  await sql`create index audit_log_action_idx on audit_log (action, id desc)`.execute(db);
  await sql`create index audit_log_entity_idx on audit_log (entity_type, entity_id, id desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("audit_log").execute();
  await db.schema.dropTable("api_keys").execute();
  await db.schema.dropTable("refresh_tokens").execute();
}
