import { sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import { escapeLike } from "../species/species.repo.ts";

/** The old server's page-number pagination (Django REST framework): a total count and an offset page. */
export type LegacySpeciesFilter = { search?: string; family?: string; offset: number; limit: number };

const COLUMNS = ["id", "scientific_name", "common_names", "family", "genus"] as const;

function filtered(db: Db, f: LegacySpeciesFilter) {
  let query = db.selectFrom("species");
  if (f.family) query = query.where(sql<boolean>`lower(family) = ${f.family.toLowerCase()}`);
  if (f.search)
    query = query.where(
      sql<boolean>`search_text like ${`%${escapeLike(f.search.toLowerCase())}%`} escape '\\'`,
    );
  return query;
}

export async function countLegacySpecies(db: Db, f: LegacySpeciesFilter): Promise<number> {
  const row = await filtered(db, f)
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function listLegacySpecies(db: Db, f: LegacySpeciesFilter) {
  return filtered(db, f)
    .select(COLUMNS)
    .orderBy("scientific_name")
    .orderBy("id")
    .offset(f.offset)
    .limit(f.limit)
    .execute();
}

export function findLegacySpecies(db: Db, id: string) {
  return db.selectFrom("species").select(COLUMNS).where("id", "=", id).executeTakeFirst();
}
