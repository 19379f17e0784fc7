import type { Deps } from "../../deps.ts";
import {
  countLegacySpecies,
  findLegacySpecies,
  type LegacySpeciesFilter,
  listLegacySpecies,
} from "./legacy-species.repo.ts";

/** The old server's page size (Django REST framework PAGE_SIZE). */
export const LEGACY_PAGE_SIZE = 20;

type Row = Awaited<ReturnType<typeof listLegacySpecies>>[number];
/** The old catalogue shape (snake_case, no links). */
export type LegacySpecies = ReturnType<typeof toLegacy>;
const toLegacy = (r: Row) => ({
  id: r.id,
  scientific_name: r.scientific_name,
  common_names: r.common_names,
  family: r.family,
  genus: r.genus,
});

/** The catalogue as shipped app builds read it: offset pages with a total count. */
export function createLegacySpeciesService(deps: Pick<Deps, "db">) {
  return {
    async page(
      query: { page: number; search?: string; family?: string },
      clientKey: string,
    ): Promise<{ count: number; results: LegacySpecies[] }> {
      const filter: LegacySpeciesFilter = {
        search: query.search || undefined,
        family: query.family || undefined,
        offset: (query.page - 1) * LEGACY_PAGE_SIZE,
        limit: LEGACY_PAGE_SIZE,
      };
      const [count, rows] = await deps.db.read(clientKey, (db) =>
        Promise.all([countLegacySpecies(db, filter), listLegacySpecies(db, filter)]),
      );
      return { count, results: rows.map(toLegacy) };
    },

    async get(id: string, clientKey: string): Promise<LegacySpecies | undefined> {
      const row = await deps.db.read(clientKey, (db) => findLegacySpecies(db, id));
      return row && toLegacy(row);
    },
  };
}

export type LegacySpeciesService = ReturnType<typeof createLegacySpeciesService>;
