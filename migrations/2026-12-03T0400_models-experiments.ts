import { type Kysely, sql } from "kysely";

// Model registry, A/B experiments, per-call records and user feedback (issue 15).
export async function up(db: Kysely<any>): Promise<void> {
  // A model: a provider (registry name) with the settings that change its answer, and the version the
  // provider reports for it (Plant.id's model_version, PlantNet's version).
  await db.schema
    .createTable("models")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("version", "text", (c) => c.notNull())
    .addColumn("settings", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('active', 'shadow', 'retired')`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index models_identity_idx on models (provider, version, settings)`.execute(db);

  await db.schema
    .createTable("experiments")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('running', 'stopped')`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("stopped_at", "timestamptz")
    .execute();
  // At most one running experiment: every identification is in at most one, so its models are unambiguous.
  await sql`create unique index experiments_one_running_idx on experiments ((true)) where status = 'running'`.execute(
    db,
  );

  await db.schema
    .createTable("experiment_variants")
    .addColumn("experiment_id", "uuid", (c) => c.notNull().references("experiments.id"))
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("position", "integer", (c) => c.notNull())
    .addColumn("is_control", "boolean", (c) => c.notNull())
    .addColumn("weight", "integer", (c) => c.notNull().check(sql`weight between 0 and 10000`))
    // [[start, end), ...] out of 10,000 buckets; kept across weight changes so only moved buckets move.
    .addColumn("buckets", "jsonb", (c) => c.notNull())
    .addColumn("model_ids", sql`uuid[]`, (c) => c.notNull())
    .addColumn("shadow_model_ids", sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn("merge", "text", (c) => c.notNull().check(sql`merge in ('combined', 'first_answer')`))
    .addPrimaryKeyConstraint("experiment_variants_pk", ["experiment_id", "key"])
    .execute();

  await db.schema
    .alterTable("identifications")
    .addColumn("experiment_id", "uuid", (c) => c.references("experiments.id"))
    .addColumn("variant", "text")
    .execute();
  await sql`create index identifications_experiment_idx on identifications (experiment_id, variant) where experiment_id is not null`.execute(
    db,
  );

  // One row per provider call an identification made (shadow calls included): what the report aggregates.
  await db.schema
    .createTable("identification_model_calls")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("identification_id", "uuid", (c) => c.notNull().references("identifications.id"))
    .addColumn("model_id", "uuid", (c) => c.references("models.id"))
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("model_version", "text")
    .addColumn("role", "text", (c) => c.notNull().check(sql`role in ('answer', 'shadow', 'health')`))
    .addColumn("outcome", "text", (c) =>
      c.notNull().check(sql`outcome in ('ok', 'no_match', 'failed', 'skipped', 'circuit_open')`),
    )
    .addColumn("cached", "boolean", (c) => c.notNull())
    .addColumn("confidence", "double precision")
    .addColumn("top_name", "text")
    .addColumn("latency_ms", "integer")
    .addColumn("metadata", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index identification_model_calls_identification_idx on identification_model_calls (identification_id)`.execute(
    db,
  );
  await sql`create index identification_model_calls_created_idx on identification_model_calls (created_at)`.execute(
    db,
  );

  // The user's verdict on an identification: the ground truth the report measures accuracy against.
  await db.schema
    .createTable("identification_feedback")
    .addColumn("identification_id", "uuid", (c) => c.primaryKey().references("identifications.id"))
    .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id"))
    .addColumn("correct", "boolean", (c) => c.notNull())
    .addColumn("species_id", "uuid", (c) => c.references("species.id"))
    // The species the plant really is, when known (the species named, or the shown top suggestion if correct).
    .addColumn("truth_name", "text")
    // The top suggestion the user was shown.
    .addColumn("shown_name", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("identification_feedback").execute();
  await db.schema.dropTable("identification_model_calls").execute();
  await db.schema.alterTable("identifications").dropColumn("variant").dropColumn("experiment_id").execute();
  await db.schema.dropTable("experiment_variants").execute();
  await db.schema.dropTable("experiments").execute();
  await db.schema.dropTable("models").execute();
}
