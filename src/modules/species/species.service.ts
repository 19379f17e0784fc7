import { z } from "zod";
import type { Deps } from "../../deps.ts";
import { decodeCursor, encodeCursor } from "../../http/cursor.ts";
import { ApiError } from "../../http/errors.ts";
import { text } from "../../http/text.ts";
import { speciesLinks } from "./species.links.ts";
import { findSpeciesById, listSpecies, type SpeciesRow } from "./species.repo.ts";
import type { Species, SpeciesListQuery, SpeciesPage } from "./species.schemas.ts";

const CACHE = "species";
const CursorSchema = z.object({ s: text(), i: z.string().uuid() });

export function toSpeciesDto(row: SpeciesRow): Species {
  return {
    id: row.id,
    scientificName: row.scientific_name,
    commonNames: row.common_names,
    family: row.family,
    genus: row.genus,
    category: row.category,
    careInstructions: row.care,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    links: speciesLinks(row),
  };
}

/** Taxon names are stored capitalised ("Araceae"); accept any case from clients. */
function taxonName(value: string | undefined) {
  return value ? value.charAt(0).toUpperCase() + value.slice(1).toLowerCase() : undefined;
}

export function createSpeciesService(deps: Pick<Deps, "db" | "cache" | "config">) {
  const ttl = deps.config.cache.speciesTtlSeconds;

  return {
    /** The species as JSON text: the cached bytes are served as they are, without a parse/serialise round. */
    async getSpeciesJson(id: string, clientKey: string): Promise<string> {
      const load = async () => {
        const row = await deps.db.read(clientKey, (db) => findSpeciesById(db, id));
        return row ? JSON.stringify(toSpeciesDto(row)) : undefined;
      };
      const cached = ttl === 0 ? await load() : await deps.cache.getOrLoad(CACHE, id, ttl, load);
      if (cached === undefined) throw new ApiError("not_found", "No species with this id.");
      return cached;
    },

    async listSpecies(query: SpeciesListQuery, clientKey: string, selfUrl: URL): Promise<SpeciesPage> {
      const after = query.cursor ? decodeCursor(query.cursor, CursorSchema) : undefined;
      const rows = await deps.db.read(clientKey, (db) =>
        listSpecies(db, {
          limit: query.limit + 1,
          after: after && { scientificName: after.s, id: after.i },
          q: query.q,
          family: taxonName(query.family),
          genus: taxonName(query.genus),
        }),
      );
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const nextCursor =
        rows.length > query.limit && last ? encodeCursor({ s: last.scientific_name, i: last.id }) : null;
      return {
        data: page.map(toSpeciesDto),
        nextCursor,
        links: pageLinks(selfUrl, nextCursor),
      };
    },

    async invalidate(id: string) {
      await deps.cache.del(CACHE, id);
    },
  };
}

export type SpeciesService = ReturnType<typeof createSpeciesService>;

export function pageLinks(selfUrl: URL, nextCursor: string | null) {
  const self = `${selfUrl.pathname}${selfUrl.search}`;
  if (!nextCursor) return { self, next: null };
  const next = new URL(selfUrl);
  next.searchParams.set("cursor", nextCursor);
  return { self, next: `${next.pathname}${next.search}` };
}
