import { type Kysely, sql } from "kysely";

/**
 * Databases that applied an early draft of 2026-11-27T1400_background-jobs (dev and bench databases of the
 * same day) lack these; everywhere else this is a no-op. The 1400 migration's `down` removes them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table identifications add column if not exists failure jsonb`.execute(db);
  await sql`alter table media add column if not exists purged_at timestamptz`.execute(db);
  await sql`create index if not exists identifications_deleted_idx on identifications (deleted_at) where deleted_at is not null`.execute(
    db,
  );
}

export async function down(_db: Kysely<any>): Promise<void> {}
