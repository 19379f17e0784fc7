import { sql } from "kysely";
import type { Db } from "../../db/connect.ts";

/**
 * The species people ask about most: the top suggestion of recent identifications, the same pages users
 * open next. Most first; ties by id so the choice is stable.
 */
export async function mostRequestedSpecies(db: Db, limit: number, sinceDays = 30): Promise<string[]> {
  const rows = await db
    .selectFrom("identifications")
    .select(["top_species_id", (eb) => eb.fn.countAll<string>().as("n")])
    .where("top_species_id", "is not", null)
    .where("created_at", ">", sql<Date>`now() - make_interval(days => ${sinceDays})`)
    .groupBy("top_species_id")
    .orderBy("n", "desc")
    .orderBy("top_species_id")
    .limit(limit)
    .execute();
  return rows.map((r) => r.top_species_id as string);
}
