import { createHash } from "node:crypto";
import { z } from "zod";
import { AppError } from "../../core/app-error.ts";
import { decodeCursor, encodeCursor } from "../../core/cursor.ts";
import type { Unlinked } from "../../core/page.ts";
import type { Deps } from "../../deps.ts";
import { text } from "../../http/text.ts";
import { speciesLinks } from "./species.links.ts";
import { findSpeciesById, listSpecies, type SpeciesRow } from "./species.repo.ts";
import type { Species, SpeciesListQuery, SpeciesPage } from "./species.schemas.ts";

/** Serialised Species text, stored as it is (a new name: the old "species" entries were JSON-quoted strings). */
export const SPECIES_CACHE = "species-json";
export const SPECIES_LIST_CACHE = "species-list";
/** Cache tags (infra/cache-tags.ts): one species' entries, and every list or search page. */
export const speciesTag = (id: string) => `species:${id}`;
export const SPECIES_LIST_TAG = "species-list";
/**
 * The write marker every catalogue write records (read-routing.ts): cache fills read as this client, so a fill
 * right after an edit reads the primary until the replica has replayed the edit, and never caches the old row
 * for a whole TTL from a lagging replica.
 */
export const CATALOGUE_WRITER = "catalogue:species";
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

type CachedPage = { data: Species[]; nextCursor: string | null };

export function createSpeciesService(deps: Pick<Deps, "db" | "cache" | "config">) {
  const ttl = deps.config.cache.speciesTtlSeconds;
  const listTtl = deps.config.reads.speciesListTtlSeconds;

  return {
    /** The species as JSON text: the cached bytes are served as they are, without a parse/serialise round. */
    async getSpeciesJson(id: string, clientKey: string): Promise<string> {
      const load = async (reader: string) => {
        const row = await deps.db.read(reader, (db) => findSpeciesById(db, id));
        return row ? JSON.stringify(toSpeciesDto(row)) : undefined;
      };
      const cached =
        ttl === 0
          ? await load(clientKey)
          : await deps.cache.getOrLoadText(SPECIES_CACHE, id, ttl, () => load(CATALOGUE_WRITER), {
              tags: [speciesTag(id)],
            });
      if (cached === undefined) throw new AppError("not_found", "No species with this id.");
      return cached;
    },

    /** A page of the catalogue; with a list TTL, cached under the `species-list` tag (any species write drops it). */
    async listSpecies(query: SpeciesListQuery, clientKey: string): Promise<Unlinked<SpeciesPage>> {
      const after = query.cursor ? decodeCursor(query.cursor, CursorSchema) : undefined;
      const filter = {
        limit: query.limit + 1,
        after: after && { scientificName: after.s, id: after.i },
        q: query.q,
        family: taxonName(query.family),
        genus: taxonName(query.genus),
      };
      const load = async (reader: string): Promise<CachedPage> => {
        const rows = await deps.db.read(reader, (db) => listSpecies(db, filter));
        const page = rows.slice(0, query.limit);
        const last = page.at(-1);
        const nextCursor =
          rows.length > query.limit && last ? encodeCursor({ s: last.scientific_name, i: last.id }) : null;
        return { data: page.map(toSpeciesDto), nextCursor };
      };
      const page =
        listTtl === 0
          ? await load(clientKey)
          : await deps.cache.getOrLoad(
              SPECIES_LIST_CACHE,
              listCacheKey(filter),
              listTtl,
              () => load(CATALOGUE_WRITER),
              { tags: [SPECIES_LIST_TAG] },
            );
      // Links depend on the request's own query string: the transport adds them per request, never cached.
      return page;
    },

    /** After a catalogue write: drops the species' entries and every list page, on every instance. */
    async invalidate(id: string) {
      await deps.cache.invalidateTags([speciesTag(id), SPECIES_LIST_TAG]);
    },
  };
}

export type SpeciesService = ReturnType<typeof createSpeciesService>;

/** The page's identity after normalisation (taxon case, cursor decoded), so equal queries share one entry. */
function listCacheKey(filter: unknown): string {
  return createHash("sha256").update(JSON.stringify(filter)).digest("base64url");
}
