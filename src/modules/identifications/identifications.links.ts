import type { Linker } from "../../http/links.ts";
import { identificationPath } from "./identifications.dto.ts";
import type {
  Identification,
  IdentificationPage,
  IdentificationResource,
  IdentificationResourcePage,
} from "./identifications.schemas.ts";

export const IDENTIFICATIONS_PATH = "/v1/identifications";
export const speciesPath = (id: string) => `/v1/species/${id}`;

/** The REST resource: the service's identification with its links (REST layer only: services know no origin). */
export function presentIdentification(dto: Identification, l: Linker): IdentificationResource {
  const self = identificationPath(dto.id);
  const topSpecies = dto.suggestions[0]?.speciesId;
  return {
    ...dto,
    suggestions: dto.suggestions.map((s) => ({
      ...s,
      links: s.speciesId ? { species: l.href(speciesPath(s.speciesId)) } : {},
    })),
    links: {
      self: l.href(self),
      collection: l.href(IDENTIFICATIONS_PATH),
      images: dto.images.map((i) => l.href(i.url)),
      thumbnails: dto.images.map((i) => l.href(i.thumbnailUrl)),
      ...(topSpecies ? { species: l.href(speciesPath(topSpecies)) } : {}),
      ...(l.can("identifications:write") ? { delete: l.action(self, "DELETE") } : {}),
    },
  };
}

export function presentIdentificationPage(page: IdentificationPage, l: Linker): IdentificationResourcePage {
  return { ...page, data: page.data.map((d) => presentIdentification(d, l)) };
}
