import { type Kysely, sql } from "kysely";

/**
 * Direct uploads (issue #13): POST /v1/uploads hands out a signed PUT for one object under `uploads/<id>`; an
 * identification claims it by id. `claimed_at` is the claim in progress (a lease: a request is verifying and
 * storing it); a claimed upload's row and object go once its photo is stored. Unclaimed uploads are swept after
 * UPLOADS_UNCLAIMED_MAX_AGE_HOURS (and the bucket's lifecycle rule expires `uploads/` after a day).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("uploads")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id"))
    .addColumn("storage_key", "text", (c) => c.notNull().unique())
    .addColumn("content_type", "text", (c) => c.notNull())
    .addColumn("content_length", "integer", (c) => c.notNull())
    .addColumn("sha256", "text")
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("claimed_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // The per-user cap and erasure look up a user's uploads; the sweep looks for old ones.
  await db.schema.createIndex("uploads_user_idx").on("uploads").columns(["user_id", "created_at"]).execute();
  await db.schema.createIndex("uploads_created_at_idx").on("uploads").column("created_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("uploads").execute();
}
