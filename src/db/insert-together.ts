import { type OperationNodeSource, sql } from "kysely";
import type { Db } from "./connect.ts";

/**
 * Several INSERTs sent as one statement (data-modifying common table expressions): one round trip instead of one
 * per INSERT (issue #17). Kysely runs a transaction's statements one at a time, so a write of five rows to five
 * tables cost five round trips. PostgreSQL runs every INSERT in the statement exactly once, and checks foreign
 * keys at the statement's end, so a row may reference one inserted beside it. Nothing is returned.
 */
export async function insertTogether(
  db: Db,
  inserts: readonly (OperationNodeSource | undefined)[],
): Promise<void> {
  const all = inserts.filter((q): q is OperationNodeSource => q !== undefined);
  const last = all.at(-1);
  if (!last) return;
  const before = all.slice(0, -1).map((q, i) => sql`${sql.raw(`w${i}`)} as (${q})`);
  await (before.length === 0 ? sql`${last}` : sql`with ${sql.join(before)} ${last}`).execute(db);
}
