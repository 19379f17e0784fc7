import { type Kysely, sql } from "kysely";

/**
 * When a photo's objects were last written (stored, or refreshed by a reuse): the bucket's lifecycle rules count
 * an object's age from its last write, so a photo reused by a new identification is written again (at most
 * daily) and expires a year after its last use, not its first.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("photos")
    .addColumn("objects_written_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`update photos set objects_written_at = created_at`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("photos").dropColumn("objects_written_at").execute();
}
