import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  // One row per normalised violation and UTC day. Empty strings (not NULL) for absent parts, so the primary key
  // groups them: NULLs would never conflict and every report would add a row.
  await db.schema
    .createTable("csp_violations_daily")
    .addColumn("day", "date", (c) => c.notNull())
    .addColumn("directive", "text", (c) => c.notNull())
    .addColumn("blocked_origin", "text", (c) => c.notNull())
    .addColumn("document_path", "text", (c) => c.notNull())
    .addColumn("source_file", "text", (c) => c.notNull())
    .addColumn("line", "integer", (c) => c.notNull())
    .addColumn("disposition", "text", (c) => c.notNull().check(sql`disposition in ('enforce', 'report')`))
    .addColumn("count", "bigint", (c) => c.notNull())
    .addColumn("first_seen", "timestamptz", (c) => c.notNull())
    .addColumn("last_seen", "timestamptz", (c) => c.notNull())
    .addColumn("sample", "jsonb", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("csp_violations_daily_pk", [
      "day",
      "directive",
      "blocked_origin",
      "document_path",
      "source_file",
      "line",
      "disposition",
    ])
    .execute();
  await sql`create index csp_violations_daily_directive_idx on csp_violations_daily (directive, day)`.execute(
    db,
  );

  // Every (directive, blocked origin) ever reported: a row inserted here is a type never seen before (alert).
  await db.schema
    .createTable("csp_violation_types")
    .addColumn("directive", "text", (c) => c.notNull())
    .addColumn("blocked_origin", "text", (c) => c.notNull())
    .addColumn("first_seen", "timestamptz", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("csp_violation_types_pk", ["directive", "blocked_origin"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("csp_violation_types").execute();
  await db.schema.dropTable("csp_violations_daily").execute();
}
