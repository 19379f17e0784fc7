import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create extension if not exists pg_trgm`.execute(db);

  await db.schema
    .createTable("species")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("scientific_name", "text", (c) => c.notNull().unique())
    .addColumn("common_names", sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn("family", "text", (c) => c.notNull())
    .addColumn("genus", "text", (c) => c.notNull())
    .addColumn("category", "text", (c) => c.notNull())
    .addColumn("care", "jsonb", (c) => c.notNull())
    // Lower-cased scientific + common names, kept by the repository, so one trigram index serves `q`.
    .addColumn("search_text", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("species_sort_idx").on("species").columns(["scientific_name", "id"]).execute();
  await db.schema
    .createIndex("species_family_sort_idx")
    .on("species")
    .columns(["family", "scientific_name", "id"])
    .execute();
  await db.schema
    .createIndex("species_genus_sort_idx")
    .on("species")
    .columns(["genus", "scientific_name", "id"])
    .execute();
  await sql`create index species_search_trgm_idx on species using gin (search_text gin_trgm_ops)`.execute(db);

  await db.schema
    .createTable("users")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("email", "text", (c) => c.notNull())
    .addColumn("password_hash", "text", (c) => c.notNull())
    .addColumn("display_name", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) =>
      c.notNull().defaultTo("user").check(sql`role in ('user', 'premium', 'admin')`),
    )
    .addColumn("preferences", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("deleted_at", "timestamptz")
    .execute();
  // A deleted account frees its address for a new registration.
  await sql`create unique index users_email_live_uq on users (lower(email)) where deleted_at is null`.execute(
    db,
  );

  await db.schema
    .createTable("identifications")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id"))
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("is_plant", "boolean")
    .addColumn("confidence", "double precision")
    .addColumn("top_species_id", "uuid", (c) => c.references("species.id"))
    .addColumn("model_version", "text")
    .addColumn("request", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("result", "jsonb")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("deleted_at", "timestamptz")
    .execute();
  await sql`create index identifications_user_history_idx on identifications (user_id, created_at desc, id desc) where deleted_at is null`.execute(
    db,
  );

  await db.schema
    .createTable("media")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("identification_id", "uuid", (c) => c.notNull().references("identifications.id"))
    .addColumn("position", "smallint", (c) => c.notNull())
    .addColumn("storage_key", "text", (c) => c.notNull().unique())
    .addColumn("thumbnail_key", "text", (c) => c.notNull().unique())
    .addColumn("content_type", "text", (c) => c.notNull())
    .addColumn("byte_size", "integer", (c) => c.notNull())
    .addColumn("width", "integer", (c) => c.notNull())
    .addColumn("height", "integer", (c) => c.notNull())
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("deleted_at", "timestamptz")
    .execute();
  await db.schema
    .createIndex("media_identification_idx")
    .on("media")
    .columns(["identification_id", "position"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("media").execute();
  await db.schema.dropTable("identifications").execute();
  await db.schema.dropTable("users").execute();
  await db.schema.dropTable("species").execute();
}
