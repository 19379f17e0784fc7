import { type Kysely, sql } from "kysely";

/**
 * Content-addressed photo storage (issue 17). `photos` holds one row per stored object pair (image + thumbnail),
 * referenced by the media rows that show it (not yet released, purged_at null: media_storage_key_idx counts
 * them); `photo_sources` maps an upload's bytes to the photo made from them. Existing media become photos of
 * their own (their keys stay; their content hash is unknown), referenced by their media row while its objects
 * are still stored.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("photos")
    .addColumn("storage_key", "text", (c) => c.primaryKey())
    .addColumn("thumbnail_key", "text", (c) => c.notNull())
    .addColumn("content_sha256", "text", (c) => c.unique())
    .addColumn("byte_size", "integer", (c) => c.notNull())
    .addColumn("width", "integer", (c) => c.notNull())
    .addColumn("height", "integer", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // The purge's sweep: idle photos, oldest first.
  await db.schema.createIndex("photos_updated_at_idx").on("photos").column("updated_at").execute();
  await db.schema
    .createTable("photo_sources")
    .addColumn("upload_sha256", "text", (c) => c.primaryKey())
    .addColumn("storage_key", "text", (c) => c.notNull().references("photos.storage_key").onDelete("cascade"))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex("photo_sources_storage_key_idx")
    .on("photo_sources")
    .column("storage_key")
    .execute();
  // Media rows now share objects: the keys are no longer unique (releasing references still looks them up).
  await sql`alter table media drop constraint media_storage_key_key, drop constraint media_thumbnail_key_key`.execute(
    db,
  );
  await db.schema.createIndex("media_storage_key_idx").on("media").column("storage_key").execute();

  await sql`
    insert into photos (storage_key, thumbnail_key, byte_size, width, height)
    select storage_key, min(thumbnail_key), max(byte_size), max(width), max(height)
    from media where purged_at is null group by storage_key
  `.execute(db);
  await sql`
    insert into photo_sources (upload_sha256, storage_key)
    select distinct on (sha256) sha256, storage_key
    from media where purged_at is null and deleted_at is null
    order by sha256, created_at desc
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("media_storage_key_idx").execute();
  await sql`alter table media add constraint media_storage_key_key unique (storage_key), add constraint media_thumbnail_key_key unique (thumbnail_key)`.execute(
    db,
  );
  await db.schema.dropTable("photo_sources").execute();
  await db.schema.dropTable("photos").execute();
}
