import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("notifications")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("data", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    // A job delivered twice inserts once: the producer names the event, the pair is unique.
    .addColumn("dedupe_key", "text", (c) => c.notNull())
    .addColumn("read_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint("notifications_dedupe_uq", ["user_id", "dedupe_key"])
    .execute();
  await sql`create index notifications_user_feed_idx on notifications (user_id, id desc)`.execute(db);

  await db.schema
    .createTable("email_deliveries")
    // The producer's idempotency key: one message per key, whatever the number of deliveries of the job.
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('sending', 'sent')`))
    .addColumn("message_id", "text", (c) => c.notNull())
    .addColumn("transport", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("sent_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // groupmq keeps no dead letters: a job that used all its attempts is kept here, with its payload, for redrive.
  await db.schema
    .createTable("failed_jobs")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("job_id", "text", (c) => c.notNull())
    .addColumn("lane", "text", (c) => c.notNull())
    .addColumn("job_name", "text", (c) => c.notNull())
    .addColumn("group_id", "text", (c) => c.notNull())
    .addColumn("envelope", "jsonb", (c) => c.notNull())
    .addColumn("error", "text", (c) => c.notNull())
    .addColumn("error_name", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("failed_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("retried_at", "timestamptz")
    .addColumn("retried_by", "uuid")
    .addColumn("retry_job_id", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // At most one open failure per job: recording the same final failure twice (crash in between) is a no-op.
  await sql`create unique index failed_jobs_open_job_uq on failed_jobs (job_id) where retried_at is null`.execute(
    db,
  );
  await sql`create index failed_jobs_open_list_idx on failed_jobs (id desc) where retried_at is null`.execute(
    db,
  );

  await db.schema
    .createTable("identification_batches")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id"))
    .addColumn("status", "text", (c) =>
      c.notNull().check(sql`status in ('queued', 'processing', 'completed', 'failed')`),
    )
    .addColumn("total", "integer", (c) => c.notNull())
    .addColumn("completed_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("deleted_at", "timestamptz")
    .execute();
  await sql`create index identification_batches_user_idx on identification_batches (user_id, id desc)`.execute(
    db,
  );
  await db.schema
    .createTable("identification_batch_items")
    .addColumn("batch_id", "uuid", (c) => c.notNull().references("identification_batches.id"))
    .addColumn("position", "smallint", (c) => c.notNull())
    .addColumn("identification_id", "uuid", (c) => c.notNull().unique().references("identifications.id"))
    .addPrimaryKeyConstraint("identification_batch_items_pk", ["batch_id", "position"])
    .execute();

  // Why a queued identification ended `failed` ({ code, message }), shown to its owner.
  await db.schema.alterTable("identifications").addColumn("failure", "jsonb").execute();
  // media.purge marks what it removed from the store, so a second run (or a redelivery) skips it.
  await db.schema.alterTable("media").addColumn("purged_at", "timestamptz").execute();
  await sql`create index identifications_deleted_idx on identifications (deleted_at) where deleted_at is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists identifications_deleted_idx`.execute(db);
  await db.schema.alterTable("media").dropColumn("purged_at").execute();
  await db.schema.alterTable("identifications").dropColumn("failure").execute();
  await db.schema.dropTable("identification_batch_items").execute();
  await db.schema.dropTable("identification_batches").execute();
  await db.schema.dropTable("failed_jobs").execute();
  await db.schema.dropTable("email_deliveries").execute();
  await db.schema.dropTable("notifications").execute();
}
