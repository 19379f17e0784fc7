import { type Kysely, sql } from "kysely";

/**
 * The stranded-work sweep (workers/scheduler.ts) now runs every few seconds instead of once a minute, to bring
 * back work a Redis failover lost: keep it off a full scan. Only queued rows are indexed, and there are few.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index identifications_queued_idx on identifications (created_at) where status = 'queued' and deleted_at is null`.execute(
    db,
  );
  await sql`create index identification_batches_queued_idx on identification_batches (created_at) where status = 'queued' and deleted_at is null`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists identification_batches_queued_idx`.execute(db);
  await sql`drop index if exists identifications_queued_idx`.execute(db);
}
