import { type CompiledQuery, type Selectable, sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { SpeciesTable } from "../../db/schema.ts";

export type SpeciesRow = Selectable<SpeciesTable>;

const COLUMNS = [
  "id",
  "scientific_name",
  "common_names",
  "family",
  "genus",
  "category",
  "care",
  "search_text",
  "created_at",
  "updated_at",
] as const;

/** Several species by id in one statement (the GraphQL loaders' batches). */
export async function findSpeciesByIds(db: Db, ids: readonly string[]): Promise<SpeciesRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom("species")
    .select(COLUMNS)
    .where("id", "in", [...ids])
    .execute();
}

// The by-id read is the hottest query we have: compile it once per database, bind the id per call.
const byIdQueries = new WeakMap<Db, CompiledQuery>();

export async function findSpeciesById(db: Db, id: string): Promise<SpeciesRow | undefined> {
  let compiled = byIdQueries.get(db);
  if (!compiled) {
    compiled = db.selectFrom("species").select(COLUMNS).where("id", "=", "").compile();
    byIdQueries.set(db, compiled);
  }
  const result = await db.executeQuery<SpeciesRow>({ ...compiled, parameters: [id] });
  return result.rows[0];
}

export type SpeciesFilter = {
  limit: number;
  after?: { scientificName: string; id: string };
  q?: string;
  family?: string;
  genus?: string;
};

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

export async function listSpecies(db: Db, f: SpeciesFilter): Promise<SpeciesRow[]> {
  let query = db.selectFrom("species").select(COLUMNS);
  if (f.family) query = query.where("family", "=", f.family);
  if (f.genus) query = query.where("genus", "=", f.genus);
  if (f.q)
    query = query.where(sql<boolean>`search_text like ${`%${escapeLike(f.q.toLowerCase())}%`} escape '\\'`);
  if (f.after) {
    const { scientificName, id } = f.after;
    query = query.where((eb) => eb(eb.refTuple("scientific_name", "id"), ">", eb.tuple(scientificName, id)));
  }
  return query.orderBy("scientific_name").orderBy("id").limit(f.limit).execute() as Promise<SpeciesRow[]>;
}

export type NewSpecies = {
  scientificName: string;
  commonNames: string[];
  family: string;
  genus: string;
  category: string;
  care: SpeciesRow["care"];
};

export function speciesSearchText(s: { scientificName: string; commonNames: string[] }): string {
  return [s.scientificName, ...s.commonNames].join(" | ").toLowerCase();
}

function newSpeciesRow(s: NewSpecies) {
  return {
    id: Bun.randomUUIDv7(),
    scientific_name: s.scientificName,
    common_names: s.commonNames,
    family: s.family,
    genus: s.genus,
    category: s.category,
    care: s.care,
    search_text: speciesSearchText(s),
  };
}

/** Inserts or refreshes by scientific name; ids of existing rows never change. */
export async function upsertSpecies(db: Db, rows: NewSpecies[]): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await db
    .insertInto("species")
    .values(rows.map(newSpeciesRow))
    .onConflict((oc) =>
      oc
        .column("scientific_name")
        .doUpdateSet((eb) => ({
          common_names: eb.ref("excluded.common_names"),
          family: eb.ref("excluded.family"),
          genus: eb.ref("excluded.genus"),
          category: eb.ref("excluded.category"),
          care: eb.ref("excluded.care"),
          search_text: eb.ref("excluded.search_text"),
          updated_at: sql`now()`,
        }))
        // Re-seeding unchanged data must not touch updated_at or invalidate anything.
        .where(
          sql<boolean>`(species.common_names, species.family, species.genus, species.category, species.care)
          is distinct from (excluded.common_names, excluded.family, excluded.genus, excluded.category, excluded.care)`,
        ),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/** Undefined when the scientific name is already catalogued. */
export async function insertSpecies(db: Db, s: NewSpecies): Promise<SpeciesRow | undefined> {
  return db
    .insertInto("species")
    .values(newSpeciesRow(s))
    .onConflict((oc) => oc.column("scientific_name").doNothing())
    .returning(COLUMNS)
    .executeTakeFirst() as Promise<SpeciesRow | undefined>;
}

export async function lockSpeciesById(db: Db, id: string): Promise<SpeciesRow | undefined> {
  return db
    .selectFrom("species")
    .select(COLUMNS)
    .where("id", "=", id)
    .forUpdate()
    .executeTakeFirst() as Promise<SpeciesRow | undefined>;
}

export async function replaceSpecies(db: Db, id: string, s: NewSpecies): Promise<SpeciesRow> {
  return db
    .updateTable("species")
    .set({
      scientific_name: s.scientificName,
      common_names: s.commonNames,
      family: s.family,
      genus: s.genus,
      category: s.category,
      care: s.care,
      search_text: speciesSearchText(s),
      updated_at: sql`now()`,
    })
    .where("id", "=", id)
    .returning(COLUMNS)
    .executeTakeFirstOrThrow() as Promise<SpeciesRow>;
}

/** The catalogue's families, most species first: the family filters worth warming. */
export async function listFamilies(db: Db, max: number): Promise<string[]> {
  const rows = await db
    .selectFrom("species")
    .select("family")
    .groupBy("family")
    .orderBy(sql`count(*)`, "desc")
    .orderBy("family")
    .limit(max)
    .execute();
  return rows.map((r) => r.family);
}
