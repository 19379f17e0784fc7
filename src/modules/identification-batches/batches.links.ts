import type { Linker } from "../../http/links.ts";
import { identificationPath } from "../identifications/identifications.dto.ts";
import { IDENTIFICATIONS_PATH } from "../identifications/identifications.links.ts";
import type { Batch, BatchResource } from "./batches.schemas.ts";

export const batchPath = (id: string) => `/v1/identification-batches/${id}`;

/** The REST resource: each item links its identification and its batch. */
export function presentBatch(batch: Batch, l: Linker): BatchResource {
  const self = l.href(batchPath(batch.id));
  return {
    ...batch,
    items: batch.items.map((item) => ({
      ...item,
      links: { identification: l.href(identificationPath(item.identificationId)), batch: self },
    })),
    links: { self, identifications: l.href(IDENTIFICATIONS_PATH) },
  };
}
