import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  // A retried POST with the same Idempotency-Key answers the stored response instead of identifying again.
  await db.schema
    .createTable("idempotency_keys")
    .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id"))
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("operation", "text", (c) => c.notNull())
    // SHA-256 of the request (fields and file bytes): the same key with another request is refused.
    .addColumn("request_hash", "text", (c) => c.notNull())
    .addColumn("response_status", "smallint", (c) => c.notNull())
    .addColumn("response_body", "jsonb", (c) => c.notNull())
    .addColumn("resource_id", "uuid")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addPrimaryKeyConstraint("idempotency_keys_pk", ["user_id", "key"])
    .execute();
  await db.schema
    .createIndex("idempotency_keys_expiry_idx")
    .on("idempotency_keys")
    .column("expires_at")
    .execute();

  // History filtered by species: the same order as the history index.
  await sql`create index identifications_user_species_idx on identifications (user_id, top_species_id, created_at desc, id desc) where deleted_at is null`.execute(
    db,
  );
  // Linking provider suggestions to the catalogue compares names case-insensitively.
  await sql`create index species_scientific_name_lower_idx on species (lower(scientific_name))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("species_scientific_name_lower_idx").execute();
  await db.schema.dropIndex("identifications_user_species_idx").execute();
  await db.schema.dropTable("idempotency_keys").execute();
}
