import type { SpeciesRow } from "./species.repo.ts";

export const SPECIES_PATH = "/v1/species";

/**
 * The one exception to "links are built by the REST presenters": a species is cached and answered as its
 * serialised bytes, so its links (the same for every caller) travel inside the cached DTO as paths; the
 * absolute-URL middleware prefixes the origin (its RELATIVE_URL_FIELD names these keys).
 */
export function speciesLinks(row: Pick<SpeciesRow, "id" | "family" | "genus">) {
  return {
    self: `${SPECIES_PATH}/${row.id}`,
    collection: SPECIES_PATH,
    family: `${SPECIES_PATH}?family=${encodeURIComponent(row.family)}`,
    genus: `${SPECIES_PATH}?genus=${encodeURIComponent(row.genus)}`,
  };
}
